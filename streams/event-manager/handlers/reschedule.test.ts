// reschedule(): a subscriber is in a partition's timer index only when one of its timers lies ahead.
import { describe, expect, it } from 'vitest';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { newSubscriber } from '../managedSubscriber.ts';
import { apply } from '../presence/derive.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { EventManagerContext } from './context.ts';

const T = Date.UTC(2026, 0, 1);

describe('reschedule', () => {
  it('indexes no timer for a subscriber without one (it used to be due at 0: fired, and rewritten, on the next tick)', () => {
    const ctx = new EventManagerContext({} as RecordSerde, {} as WatcherRules, 't.', 'stream');
    const purged = newSubscriber('msisdn:+1');
    purged.presence = apply(purged.presence, mapEvent('msisdn:+1', 'purgeMS', 'invoke', T, { vlrNumber: '1' })).state;
    ctx.reschedule(0, 'msisdn:+1', purged);
    expect(ctx.timers.get(0)!.size).toBe(0);
    expect(ctx.timers.get(0)!.takeDue(T + 1)).toEqual([]);

    const attaching = newSubscriber('msisdn:+2');
    attaching.presence = apply(attaching.presence, mapEvent('msisdn:+2', 'updateLocation', 'invoke', T, { vlrNumber: '1', opc: 1 })).state;
    ctx.reschedule(0, 'msisdn:+2', attaching);
    expect(ctx.timers.get(0)!.takeDue(T + 1)).toEqual([]);
    expect(ctx.timers.get(0)!.takeDue(T + 60_000)).toEqual(['msisdn:+2']);
  });
});
