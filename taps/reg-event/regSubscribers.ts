// Which IMS subscribers a reg-event agent watches: the public identities an
// operator lists (one SIP or tel URI per line), each keyed as the taps key it —
// through the subscriber directory when there is one, so an IMS AoR provisioned
// with an MSISDN shares the MSISDN's key (and partition, and event manager).
// Shared by `presence tap reg-event` and the event manager's own agent.
import { readFileSync } from 'node:fs';
import { SubscriberDirectory, entryKey } from '../../subscriber/directory/subscriberDirectory.ts';
import { identityKey, type IdentityRef } from '../../subscriber/identity/subscriberKey.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import { partyKey } from '../decodeCapture.ts';
import type { Party } from '../signal.ts';
import type { RegSubscriber } from './regEventAgent.ts';
import { registeredParty } from './registrationEvent.ts';

function refsOf(p: Party): IdentityRef[] {
  if (p.ids.msisdn) return [{ kind: 'msisdn', value: p.ids.msisdn }];
  return p.ids.aor ? [{ kind: 'aor', value: p.ids.aor }] : [];
}

/** The subscriber key of a registered identity: the directory's when it is ours, null when not; its own key without a directory. */
export function registeredKeyResolver(directory: SubscriberDirectory | undefined): (p: Party) => Promise<string | null> {
  return async (p) => {
    if (!directory) return partyKey(p.ids);
    const refs = refsOf(p);
    const found = await directory.resolveMany(refs);
    for (const r of refs) {
      const e = found.get(identityKey(r));
      if (e) return entryKey(e);
    }
    return null;
  };
}

/** The identities file's subscribers (an identity that is not a subscriber is skipped, told to `skipped`). */
export async function readRegSubscribers(
  file: string,
  plan: NumberingPlan,
  keyOf: (p: Party) => Promise<string | null>,
  skipped: (aor: string) => void = () => {},
): Promise<RegSubscriber[]> {
  const out: RegSubscriber[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const aor = line.trim();
    if (!aor || aor.startsWith('#')) continue;
    const party = registeredParty(aor, plan);
    const key = party ? await keyOf(party) : null;
    if (key) out.push({ key, aor });
    else skipped(aor);
  }
  return out;
}

/** `host:port` of a registrar, or a clear error naming where it came from. */
export function registrarAddress(v: string, name: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`${name} must be host:port, not ${v}`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
