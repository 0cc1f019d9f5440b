// MemberDecisions against a stand-in member (its partitions, store and profiles):
// a key it owns is decided here, one another member owns goes elsewhere (or is
// unavailable without anyone to ask), no state is no-state, a profiles outage
// is unavailable. test/integration/memberCallHandling.test.ts runs a real one.
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../../kafka/partitioner.ts';
import type { CallDecider, OwnerAnswer } from '../../../services/call-handling/ownerDecisions.ts';
import type { EventManager } from '../eventManager.ts';
import { newSubscriber, type ManagedSubscriber } from '../managedSubscriber.ts';
import { MemberDecisions } from './memberDecisions.ts';

const settings = { topics: { partitions: 4 } } as ConstructorParameters<typeof MemberDecisions>[0];
const HERE = 'msisdn:+351910000161';
const NO_STATE = 'msisdn:+351910000162';
const call = { caller: 'sip:bob@example.com', medium: 'voice', urgent: false, voicemail: false } as const;

function member(o: { held: number[]; profilesDown?: boolean }) {
  const store = new Map<string, ManagedSubscriber>([[HERE, newSubscriber(HERE)]]);
  return {
    processor: { ctx: { partitions: () => o.held, store: () => store } },
    profilesOf: async () => {
      if (o.profilesDown) throw new Error('database down');
      return new Map();
    },
  } as unknown as EventManager;
}

describe('MemberDecisions', () => {
  const all = [0, 1, 2, 3];
  it('decides its own keys from the store; no state is no-state', async () => {
    const d = new MemberDecisions(settings, 'em-1', member({ held: all }));
    const here = await d.decide(HERE, call);
    // Nothing known of the callee's presence: rejected as unknown, decided by this member.
    expect(here).toMatchObject({ kind: 'decision', memberId: 'em-1', decision: { action: 'reject', reason: 'unknown' } });
    expect(await d.decide(NO_STATE, call)).toEqual({ kind: 'no-state' });
    expect(d.counts).toEqual({ local: 2, elsewhere: 0 });
  });

  it("another member's key goes elsewhere, or is unavailable (moved) with no one to ask", async () => {
    const asked: string[] = [];
    const elsewhere: CallDecider = {
      decide: async (key): Promise<OwnerAnswer> => (asked.push(key), { kind: 'no-state' }),
    };
    const notHere = all.filter((p) => p !== partitionOf(HERE, 4));
    const d = new MemberDecisions(settings, 'em-1', member({ held: notHere }), elsewhere);
    expect(await d.decide(HERE, call)).toEqual({ kind: 'no-state' });
    expect(asked).toEqual([HERE]);
    expect(await new MemberDecisions(settings, 'em-1', member({ held: notHere })).decide(HERE, call)).toMatchObject({ kind: 'unavailable', reason: 'moved' });
  });

  it('a profiles outage is unavailable (the redirect server answers 503), not a guess', async () => {
    const d = new MemberDecisions(settings, 'em-1', member({ held: all, profilesDown: true }));
    expect(await d.decide(HERE, call)).toMatchObject({ kind: 'unavailable', reason: 'error' });
  });
});
