// ISUP call correlation on the real call and on hand-made sequences.
import { describe, expect, it } from 'vitest';
import { capturesNote } from '../../test/support/tsharkFields.ts';
import { capture, haveCaptures } from '../../test/support/captures.ts';
import { sctpUserMessages } from '../../test/support/sctpUserMessages.ts';
import { Ss7Dissector, type Ss7Message } from '../../protocols/decode/ss7Dissector.ts';
import type { IsupMessage } from '../../protocols/decode/isup/isup.ts';
import { IsupCalls } from './isupCalls.ts';
import { ISUP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, fixtureSubscriber } from '../../test/support/fixtures.ts';

describe.skipIf(!haveCaptures)(`IsupCalls on isup-call-m3ua-draft6.pcap${capturesNote}`, () => {
  it('carries the IAM numbers to CFN, ACM, ANM, REL, RLC (both directions) and ends the call at RLC', () => {
    const d = new Ss7Dissector();
    const calls = new IsupCalls();
    const out = sctpUserMessages(capture('ss7/isup-call-m3ua-draft6.pcap')).flatMap((u) => d.decode(u.payload, u.ppid, u).map((m) => calls.observe(m)));
    expect(out.map((m) => [m.isup!.name, m.call?.calling?.digits, m.call?.called?.digits])).toEqual(
      ['IAM', 'CFN', 'ACM', 'ANM', 'REL', 'RLC'].map((n) => [n, '3933399708', '4891F']),
    );
    expect(out[0]!.call!.originOpc).toBe(11522);
    expect(out[5]!.call!.answerNs).toBe(out[3]!.timeNs);
    expect(calls.size).toBe(0);
    expect(calls.stats).toMatchObject({ started: 1, released: 1, unmatched: 0 });
  });
});

describe('IsupCalls on the generated ISUP fixture', () => {
  it("carries each IAM's numbers to the rest of its call, names the MSC's subscriber as caller, and ends calls at RLC", () => {
    const log = fixtureLog(ISUP_FIXTURE);
    const mscPcs = new Set(fixtureNetwork().mscs.map((n) => n.pc));
    const d = new Ss7Dissector();
    const calls = new IsupCalls();
    const out = sctpUserMessages(fixturePath(ISUP_FIXTURE)).flatMap((u) => d.decode(u.payload, u.ppid, u).map((m) => calls.observe(m)));
    expect(out.map((m) => m.isup!.name)).toEqual(log.map((p) => p.meta.message));
    const iams = new Map<number, (typeof out)[number]>();
    out.forEach((m, i) => {
      const who = log[i]!.meta.subscriber;
      if (m.isup!.name === 'IAM') iams.set(who, m);
      const iam = iams.get(who)!;
      expect([m.call?.calling?.digits, m.call?.called?.digits], `frame ${m.frame}`).toEqual([iam.isup!.callingNumber!.digits, iam.isup!.calledNumber!.digits]);
      expect(m.call!.originOpc).toBe(iam.opc);
      if (mscPcs.has(iam.opc)) expect(m.call!.calling!.digits).toBe(fixtureSubscriber(who).msisdn);
    });
    const iamCount = log.filter((p) => p.meta.message === 'IAM').length;
    const rlcCount = log.filter((p) => p.meta.message === 'RLC').length;
    expect(calls.stats).toMatchObject({ started: iamCount, released: rlcCount, unmatched: 0 });
    // Calls still up when the six minutes end.
    expect(calls.size).toBe(iamCount - rlcCount);
  });
});

let frame = 0;
function isup(opc: number, dpc: number, cic: number, name: string, extra: Partial<IsupMessage> = {}, timeNs = 0n): Ss7Message {
  return { protocol: 'isup', frame: ++frame, timeNs, opc, dpc, si: 5, ni: 2, sls: 0, isup: { cic, type: 0, name, ...extra } };
}
const num = (digits: string) => ({ digits, nai: 3, np: 1 });

describe('IsupCalls hand-made', () => {
  it('keys by CIC and the unordered point-code pair', () => {
    const c = new IsupCalls();
    c.observe(isup(10, 20, 7, 'IAM', { callingNumber: num('111'), calledNumber: num('222') }));
    c.observe(isup(30, 20, 7, 'IAM', { callingNumber: num('333'), calledNumber: num('444') }));
    expect(c.observe(isup(20, 10, 7, 'ACM')).call!.calling!.digits).toBe('111');
    expect(c.observe(isup(20, 30, 7, 'ACM')).call!.calling!.digits).toBe('333');
    expect(c.observe(isup(20, 10, 8, 'ACM')).call).toBeUndefined();
    expect(c.stats.unmatched).toBe(1);
  });
  it('appends SAM digits; a new IAM on the circuit replaces the call; idle calls expire', () => {
    const c = new IsupCalls({ timeoutNs: 1000n });
    c.observe(isup(1, 2, 1, 'IAM', { calledNumber: num('49') }, 0n));
    expect(c.observe(isup(1, 2, 1, 'SAM', { subsequentDigits: '89' }, 10n)).call!.called!.digits).toBe('4989');
    c.observe(isup(1, 2, 1, 'IAM', { calledNumber: num('50') }, 20n));
    expect(c.observe(isup(2, 1, 1, 'ACM', {}, 30n)).call!.called!.digits).toBe('50');
    expect(c.observe(isup(2, 1, 1, 'ANM', {}, 1031n)).call).toBeUndefined();
    expect(c.stats.expired).toBe(1);
  });
  it('bounds the number of calls', () => {
    const c = new IsupCalls({ maxCalls: 2 });
    for (let cic = 1; cic <= 3; cic++) c.observe(isup(1, 2, cic, 'IAM'));
    expect(c.size).toBe(2);
    expect(c.stats.evicted).toBe(1);
    expect(c.observe(isup(2, 1, 1, 'REL')).call).toBeUndefined();
  });
});

describe('IsupCalls: mobile-terminated calls addressed to a roaming number', () => {
  const S = 1_000_000_000n;
  const msisdn = { digits: '447700900123', nai: 1, np: 1 };
  it("names the subscriber a sendRoutingInfo answer allocated the IAM's roaming number for, on every message of the call, once per allocation", () => {
    const c = new IsupCalls();
    c.rememberRoamingNumber({ digits: '447700988001', nai: 1, np: 1 }, msisdn, 10n * S);
    const iam = c.observe(isup(1, 2, 5, 'IAM', { calledNumber: { digits: '447700988001', nai: 4, np: 1 } }, 11n * S));
    expect(iam.call!.calledSubscriber).toEqual(msisdn);
    expect(iam.call!.called!.digits).toBe('447700988001');
    expect(c.observe(isup(2, 1, 5, 'REL', {}, 40n * S)).call!.calledSubscriber).toEqual(msisdn);
    // The allocation is spent: a later IAM to the same number is someone else's call.
    expect(c.observe(isup(1, 2, 6, 'IAM', { calledNumber: { digits: '447700988001', nai: 4, np: 1 } }, 12n * S)).call!.calledSubscriber).toBeUndefined();
    expect(c.stats).toMatchObject({ roamingNumbers: 1, roamingMatched: 1 });
  });
  it('forgets a roaming number after its lifetime, and leaves other called numbers alone', () => {
    const c = new IsupCalls({ roamingNumberNs: 30n * S });
    c.rememberRoamingNumber({ digits: '447700988002', nai: 1, np: 1 }, msisdn, 0n);
    expect(c.observe(isup(1, 2, 7, 'IAM', { calledNumber: num('447700900999') }, 1n * S)).call!.calledSubscriber).toBeUndefined();
    expect(c.observe(isup(1, 2, 8, 'IAM', { calledNumber: { digits: '447700988002', nai: 4, np: 1 } }, 31n * S)).call!.calledSubscriber).toBeUndefined();
  });
});
