// Decides who a party is: the canonical key from the subscriber directory
// when the identity is one of ours; otherwise dropped and counted (Tekelec
// Fig 10) or kept under its own key, as configured. Learns IMSI ↔ MSISDN
// pairs that signaling reveals for our subscribers.
import { entryKey, type SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import type { IdentityRef } from '../subscriber/identity/subscriberKey.ts';
import { partyKey } from './decodeCapture.ts';
import type { DecodedSignal, Party } from './signal.ts';

export type UnknownPolicy = 'drop' | 'keep';

function refs(p: Party): IdentityRef[] {
  const out: IdentityRef[] = [];
  if (p.ids.msisdn) out.push({ kind: 'msisdn', value: p.ids.msisdn });
  if (p.ids.imsi) out.push({ kind: 'imsi', value: p.ids.imsi });
  if (p.ids.aor) out.push({ kind: 'aor', value: p.ids.aor });
  return out;
}

export class SubscriberResolver {
  /** noIdentity: messages naming no identity at all (e.g. TCAP without MAP, SIP OPTIONS to a host). */
  readonly stats = { notSubscriber: 0, noIdentity: 0, learned: 0 };
  private resolved = new Map<string, string | null>();

  constructor(
    private readonly directory: SubscriberDirectory | undefined,
    private readonly unknown: UnknownPolicy,
  ) {}

  /** Looks up every identity of a batch of signals at once (one directory query). */
  async prepare(signals: DecodedSignal[]): Promise<void> {
    this.resolved = new Map();
    for (const s of signals) if (s.parties.length === 0) this.stats.noIdentity++;
    if (!this.directory) return;
    const all = signals.flatMap((s) => s.parties.flatMap(refs));
    if (all.length === 0) return;
    const found = await this.directory.resolveMany(all);
    for (const [k, entry] of found) this.resolved.set(k, entry ? entryKey(entry) : null);
    // Pairs revealed by signaling (ISD, SRI results...) for identities that are ours.
    for (const s of signals) {
      for (const p of s.parties) {
        const { imsi, msisdn } = p.ids;
        if (!imsi || !msisdn) continue;
        const known = this.resolved.get(`imsi:${imsi}`) ?? this.resolved.get(`msisdn:${msisdn}`);
        if (!known) continue;
        const entryImsi = found.get(`imsi:${imsi}`);
        const entryMsisdn = found.get(`msisdn:${msisdn}`);
        if (entryImsi?.msisdn === msisdn && entryMsisdn?.imsi === imsi) continue;
        if ((await this.directory.learn(imsi, msisdn)) === 'learned') {
          this.stats.learned++;
          this.resolved.set(`imsi:${imsi}`, known);
          this.resolved.set(`msisdn:${msisdn}`, known);
        }
      }
    }
  }

  /** The subscriber key of a party, or null when it is not to be published. */
  keyOf = (p: Party): string | null => {
    const r = refs(p);
    if (r.length === 0) return null;
    if (this.directory) {
      for (const ref of r) {
        const key = this.resolved.get(`${ref.kind}:${ref.value}`);
        if (key) return key;
      }
    }
    if (this.unknown === 'keep' || !this.directory) return partyKey(p.ids);
    this.stats.notSubscriber++;
    return null;
  };
}
