import { describe, expect, it } from 'vitest';
import { generatePackets } from './generate.ts';
import { Scenario } from './scenario.ts';
import type { Mix } from './mix.ts';
import { BUSY_MIX } from '../../test/support/busyMix.ts';

const busy = BUSY_MIX;

const quiet: Partial<Mix> = {
  powerCycleSeconds: 1e9,
  periodicLuSeconds: 1e9,
  mobilitySeconds: 1e9,
  registerSeconds: 1e9,
  mtCallsPerHour: 0,
  moCallsPerHour: 0,
  mtSmsPerHour: 0,
  moSmsPerHour: 0,
  atiPerHour: 0,
  sipCallsPerHour: 0,
  publishPerHour: 0,
  subscribePerHour: 0,
  messagePerHour: 0,
};

function collect(opts: Parameters<typeof generatePackets>[0]): { t: bigint; frame: string; message: string; subscriber: number }[] {
  return [...generatePackets(opts)].map((p) => ({
    t: p.timeNs,
    frame: p.frame.toString('hex'),
    message: `${p.meta.protocol}.${p.meta.message}`,
    subscriber: p.meta.subscriber,
  }));
}

describe('Scenario', () => {
  it('is deterministic per seed, and the seed matters', () => {
    const a = collect({ subscribers: 40, durationSeconds: 300, seed: 5, mix: busy });
    const b = collect({ subscribers: 40, durationSeconds: 300, seed: 5, mix: busy });
    const c = collect({ subscribers: 40, durationSeconds: 300, seed: 6, mix: busy });
    expect(a.length).toBeGreaterThan(200);
    expect(b).toEqual(a);
    expect(c.map((p) => p.frame)).not.toEqual(a.map((p) => p.frame));
  });

  it('emits frames in time order, inside the window, that stay valid after later frames', () => {
    const start = 1_767_225_600n * 1_000_000_000n;
    const kept = [...generatePackets({ subscribers: 30, durationSeconds: 600, seed: 1, mix: busy })];
    const again = collect({ subscribers: 30, durationSeconds: 600, seed: 1, mix: busy });
    expect(kept.map((p) => p.frame.toString('hex'))).toEqual(again.map((p) => p.frame));
    for (let i = 1; i < kept.length; i++) expect(kept[i]!.timeNs >= kept[i - 1]!.timeNs).toBe(true);
    expect(kept[0]!.timeNs >= start).toBe(true);
    expect(kept.at(-1)!.timeNs < start + 600n * 1_000_000_000n).toBe(true);
  });

  it('lets only powered-on handsets originate, and purges them once off', () => {
    const sc = new Scenario({ subscribers: 60, durationSeconds: 1200, seed: 3, mix: busy });
    const checked = new Map<string, number>();
    for (const p of sc.packets()) {
      const key = p.message;
      if (['mo-ForwardSM.invoke', 'updateLocation.invoke', 'sendAuthenticationInfo.invoke', 'INVITE', 'SUBSCRIBE', 'MESSAGE'].includes(key)) {
        expect(sc.attached(p.subscriber, p.t), `${key} from ${p.subscriber} at ${p.t}`).toBe(true);
        checked.set(key, (checked.get(key) ?? 0) + 1);
      }
      if (key === 'purgeMS.invoke') {
        expect(sc.attached(p.subscriber, p.t)).toBe(false);
        checked.set(key, (checked.get(key) ?? 0) + 1);
      }
    }
    for (const k of ['mo-ForwardSM.invoke', 'updateLocation.invoke', 'INVITE', 'purgeMS.invoke']) expect(checked.get(k), k).toBeGreaterThan(0);
  });

  it('answers ATI and SRI from the subscriber state: absent when off', () => {
    const sc = new Scenario({ subscribers: 80, durationSeconds: 1800, seed: 11, mix: { ...busy, unknownShare: 0 } });
    let absent = 0;
    let present = 0;
    for (const p of sc.packets()) {
      if (p.message === 'sendRoutingInfo.error.absentSubscriber') {
        expect(sc.attached(p.subscriber, p.t)).toBe(false);
        absent++;
      } else if (p.message === 'sendRoutingInfo.result') {
        expect(sc.attached(p.subscriber, p.t)).toBe(true);
        present++;
      }
    }
    expect(absent).toBeGreaterThan(0);
    expect(present).toBeGreaterThan(absent);
  });

  it('follows the mix: nothing when every source is off, only SMS when only SMS is on', () => {
    expect(collect({ subscribers: 100, durationSeconds: 600, seed: 2, mix: quiet })).toEqual([]);
    const sms = collect({ subscribers: 100, durationSeconds: 600, seed: 2, mix: { ...quiet, mtSmsPerHour: 10, unknownShare: 0 } });
    expect(sms.length).toBeGreaterThan(100);
    expect(new Set(sms.map((p) => p.message.replace(/\.(invoke|result|error.*)$/, '')))).toEqual(new Set(['map.sendRoutingInfoForSM', 'map.mt-ForwardSM']));
  });

  it('streams ten million subscribers without holding them in memory', () => {
    const before = process.memoryUsage().heapUsed;
    const sc = new Scenario({ subscribers: 10_000_000, durationSeconds: 2, seed: 9 });
    let packets = 0;
    let maxPending = 0;
    let maxIndex = 0;
    for (const p of sc.packets()) {
      packets++;
      if (p.subscriber > maxIndex) maxIndex = p.subscriber;
      if ((packets & 1023) === 0) maxPending = Math.max(maxPending, sc.pending);
    }
    const grown = process.memoryUsage().heapUsed - before;
    expect(packets).toBeGreaterThan(50_000);
    expect(maxIndex).toBeGreaterThan(9_000_000);
    // In flight: roughly one slice of exchanges plus ringing/answered call tails.
    expect(maxPending).toBeLessThan(200_000);
    expect(grown).toBeLessThan(400 * 1024 * 1024);
  });

  it('refuses nonsense options', () => {
    expect(() => new Scenario({ subscribers: 0, durationSeconds: 1, seed: 1 })).toThrow(/subscribers/);
    expect(() => new Scenario({ subscribers: 1, durationSeconds: 0, seed: 1 })).toThrow(/durationSeconds/);
    expect(() => new Scenario({ subscribers: 1, durationSeconds: 1, seed: 1, mix: { busyShare: -1 } })).toThrow(/busyShare/);
    expect(() => new Scenario({ subscribers: 1, durationSeconds: 1, seed: 1, mix: { registerSeconds: 0 } })).toThrow(/registerSeconds/);
  });
});
