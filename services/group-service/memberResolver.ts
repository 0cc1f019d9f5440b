// A member identity (sip:/tel: URI or subscriber key) → our subscriber key and
// the member's URI. Keys come from the subscriber directory when it knows the
// identity — the same resolution the SIP front end uses for presentities, so
// the group-presence processor finds members on the partitions that hold
// their presence. A member who is not in the directory (another operator's
// user, a pure SIP account) keeps its own key: groups may span domains, the
// member simply has no network-derived presence here.
import type { Settings } from '../../config/settings.ts';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { ValidationError } from './groupValidation.ts';

export interface ResolvedMember {
  subscriber: string;
  uri: string;
}

export type MemberResolver = (identity: string, field: string) => Promise<ResolvedMember>;

/** A subscriber key written where a URI is expected → the URI it stands for (msisdn:+X → tel:+X, aor:sip:… → sip:…). */
export function keyToUri(identity: string): string | undefined {
  const m = /^msisdn:(\+[1-9]\d{1,14})$/.exec(identity);
  if (m) return `tel:${m[1]}`;
  if (/^aor:(sips?|tel):/i.test(identity)) return identity.slice(4);
  return undefined;
}

export function memberResolver(s: Settings, directory?: SubscriberDirectory): MemberResolver {
  // Group members are kept even when unknown to the directory (see above).
  const resolve = directoryResolver({ ...s, identity: { ...s.identity, unknownSubscribers: 'keep' } }, directory);
  return async (identity, field) => {
    if (/^imsi:/i.test(identity)) throw new ValidationError(field, 'an IMSI has no URI to address the member by; give its tel: or sip: URI');
    const uri = /^(msisdn|aor):/i.test(identity) ? keyToUri(identity) : identity;
    if (!uri) throw new ValidationError(field, `${identity} is not a valid subscriber key (msisdn:+E164 or aor:sip:user@host)`);
    const subscriber = await resolve(uri);
    if (!subscriber)
      throw new ValidationError(
        field,
        `${identity} is not a usable member identity (a sip: URI with user and host, or a telephone number in E.164 / tel: form)`,
      );
    return { subscriber, uri };
  };
}
