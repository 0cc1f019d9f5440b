// The call-handling decision from this member's own store (issue 16.5: "from
// the owning event manager's store in milliseconds"): a SIP redirect server
// running inside the member (`presence run event-manager --call-handling-port`)
// decides the calls to the keys it owns in-process — no HTTP hop, no JSON —
// with what GET /subscribers/{key}/call-handling would answer (the same
// profiles cache and decideCall). A key of a partition another member holds
// goes to `elsewhere` (OwnerDecisions: that owner's member API), or, without
// one, is unavailable (503) so the upstream proxy falls back.
import type { Settings } from '../../../config/settings.ts';
import { partitionOf } from '../../../kafka/partitioner.ts';
import type { CallDecider, OwnerAnswer } from '../../../subscriber/call-handling/callDecider.ts';
import { decideCall, type CallRequest } from '../../../subscriber/call-handling/callDecision.ts';
import type { EventManager } from '../eventManager.ts';
import { calleeState } from './calleeState.ts';
import { ProfileBatches } from './profileBatches.ts';

export class MemberDecisions implements CallDecider {
  /** Decided here from the store, and handed to `elsewhere` (the key's partition is another member's). */
  readonly counts = { local: 0, elsewhere: 0 };
  private readonly profiles: ProfileBatches;

  constructor(
    private readonly s: Pick<Settings, 'topics'>,
    private readonly memberId: string,
    private readonly em: Pick<EventManager, 'processor' | 'profilesOf'>,
    private readonly elsewhere?: CallDecider,
  ) {
    this.profiles = new ProfileBatches((keys) => em.profilesOf(keys));
  }

  async decide(key: string, request: Omit<CallRequest, 'at'>): Promise<OwnerAnswer> {
    const partition = partitionOf(key, this.s.topics.partitions);
    const ctx = this.em.processor.ctx;
    if (!ctx.partitions().includes(partition)) {
      this.counts.elsewhere++;
      if (this.elsewhere) return this.elsewhere.decide(key, request);
      return { kind: 'unavailable', reason: 'moved', detail: `partition ${partition} of ${key} is not held by member ${this.memberId}` };
    }
    this.counts.local++;
    const held = ctx.store(partition).get(key);
    if (!held) return { kind: 'no-state' };
    try {
      const profiles = await this.profiles.get(key);
      return { kind: 'decision', decision: decideCall(calleeState(key, held.presence), profiles, { ...request, at: Date.now() }), memberId: this.memberId };
    } catch (err) {
      return {
        kind: 'unavailable',
        reason: 'error',
        detail: `${this.memberId}: availability profiles unavailable: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
}
