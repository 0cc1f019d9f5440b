// SIP / tel URI → subscriber identity. A SIP AoR is reduced to
// 'sip:user@host' (sips folded into sip, host lower-cased, port, params and
// headers dropped; the user part stays case-sensitive, RFC 3261 §19.1.4).
// Telephone numbers — tel URIs, and sip URIs with user=phone — become MSISDNs
// so SIP and SS7 views of one subscriber meet on the same key.
import { parseUri, type SipUri } from '../../protocols/decode/sip/uri.ts';
import { normalizeMsisdn, type NumberingPlan } from './msisdn.ts';

type UriIdentity = { kind: 'msisdn'; e164: string } | { kind: 'aor'; aor: string };

/** RFC 3966 §5.1.5: a local number with a global-number phone-context is that prefix + number. */
function telNumber(number: string, params: Readonly<Record<string, string | null>>, plan: NumberingPlan): string | undefined {
  if (number.startsWith('+')) return normalizeMsisdn(number, plan);
  const ctx = params['phone-context'];
  if (ctx && ctx.startsWith('+')) return normalizeMsisdn(ctx + number, plan);
  return undefined;
}

export function uriIdentity(uri: string | SipUri, plan: NumberingPlan): UriIdentity | undefined {
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  if (!u) return undefined;
  if (u.scheme === 'tel') {
    if (!u.user) return undefined;
    const e164 = telNumber(u.user, u.params, plan);
    if (e164) return { kind: 'msisdn', e164 };
    const ctx = u.params['phone-context'];
    return { kind: 'aor', aor: `tel:${u.user.replace(/[\s\-.()]/g, '')}${ctx ? `;phone-context=${ctx.toLowerCase()}` : ''}` };
  }
  if (u.scheme !== 'sip' && u.scheme !== 'sips') return undefined;
  if (u.params['user'] === 'phone' && u.user) {
    // the user part is a telephone-subscriber: number [;params] (RFC 3261 §19.1.1)
    const semi = u.user.indexOf(';');
    const number = semi < 0 ? u.user : u.user.slice(0, semi);
    const tparams: Record<string, string | null> = {};
    if (semi >= 0) {
      for (const p of u.user.slice(semi + 1).split(';')) {
        const eq = p.indexOf('=');
        if (eq > 0) tparams[p.slice(0, eq).toLowerCase()] = p.slice(eq + 1);
      }
    }
    const e164 = telNumber(number, tparams, plan) ?? normalizeMsisdn(number, plan);
    if (e164) return { kind: 'msisdn', e164 };
  }
  const host = u.host.toLowerCase();
  return { kind: 'aor', aor: u.user ? `sip:${u.user}@${host}` : `sip:${host}` };
}

/** 'sip:user@host' AoR of a SIP URI (regardless of user=phone), or undefined. */
export function sipAor(uri: string | SipUri): string | undefined {
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips')) return undefined;
  const host = u.host.toLowerCase();
  return u.user ? `sip:${u.user}@${host}` : `sip:${host}`;
}
