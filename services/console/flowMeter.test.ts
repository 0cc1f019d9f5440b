import { describe, expect, it } from 'vitest';
import { FlowMeter, RateWindow } from './flowMeter.ts';
import type { DeadLetter } from '../../schemas/generated/records.ts';

const deadLetter = (layer: string, reason: string, message: string, time = 0): DeadLetter => ({
  time,
  component: 'tap',
  layer,
  reason,
  message,
  raw: Buffer.from([1, 2, 3]),
  origin: `x.pcap#${time}`,
  context: {},
});

describe('RateWindow', () => {
  it('gives events per second over the window, forgetting what is older', () => {
    const w = new RateWindow(5000, 100);
    for (let t = 0; t < 5000; t += 10) w.add(1, t); // 100 per second
    // Exact to within one bucket (100 ms of a 5 s window: 2 %).
    expect(Math.abs(w.perSecond(5000) - 100)).toBeLessThanOrEqual(2);
    expect(Math.abs(w.perSecond(7500) - 50)).toBeLessThanOrEqual(2);
    expect(w.perSecond(20_000)).toBe(0);
    expect(w.total).toBe(500);
  });
});

describe('FlowMeter', () => {
  it('counts signaling events by protocol and message, presence changes, NOTIFYs and delivery outcomes', () => {
    const m = new FlowMeter(1000);
    m.signaling('map', 'updateLocation', 100, 'replay');
    m.signaling('map', 'updateLocation', 200, 'replay');
    m.signaling('sip', 'REGISTER', 300, 'hep');
    m.presence(400);
    m.notify(500);
    m.delivery('delivered', 600);
    m.delivery('gone', 600);
    const snap = m.snapshot(900);
    expect(snap.rates).toMatchObject({ signalingEvents: 3, presenceChanges: 1, notifyRequests: 1, deliveries: 2, deadLetters: 0 });
    expect(snap.totals).toMatchObject({ signalingEvents: 3, presenceChanges: 1, notifyRequests: 1 });
    expect(snap.signalingByMessage).toEqual([
      { tap: 'replay', protocol: 'map', message: 'updateLocation', total: 2, perSecond: 2 },
      { tap: 'hep', protocol: 'sip', message: 'REGISTER', total: 1, perSecond: 1 },
    ]);
    expect(snap.deliveriesByOutcome).toEqual([
      { outcome: 'delivered', total: 1, perSecond: 1 },
      { outcome: 'gone', total: 1, perSecond: 1 },
    ]);
  });

  it('tells the taps apart: the same message from two taps is two rows', () => {
    const m = new FlowMeter(1000);
    m.signaling('sip', 'REGISTER', 100, 'hep');
    m.signaling('sip', 'REGISTER', 100, 'replay');
    m.signaling('sip', 'REGISTER', 100, 'replay');
    expect(m.snapshot(200).signalingByMessage.map((r) => [r.tap, r.total])).toEqual([
      ['replay', 2],
      ['hep', 1],
    ]);
  });

  it('counts NOTIFYs that needed retries (more than one attempt) and the retransmissions behind them', () => {
    const m = new FlowMeter(1000);
    m.delivery('delivered', 100, 1);
    m.delivery('delivered', 100, 3);
    m.delivery('gave-up', 100, 7);
    const snap = m.snapshot(200);
    expect(snap.totals).toMatchObject({ deliveries: 3, retried: 2 });
    expect(snap.rates.retried).toBe(2);
    expect(snap.retransmissions).toBe(2 + 6);
  });

  it('counts dead letters by component, layer and reason, keeping the newest one of each as a sample (without raw bytes)', () => {
    const m = new FlowMeter(1000);
    m.deadLetter(deadLetter('sccp', 'truncated', 'first', 1), 100);
    m.deadLetter(deadLetter('sccp', 'truncated', 'second', 2), 200);
    m.deadLetter(deadLetter('sip', 'malformed', 'bad start line', 3), 300);
    const { deadLettersByReason, rates } = m.snapshot(500);
    expect(rates.deadLetters).toBe(3);
    expect(deadLettersByReason).toEqual([
      { component: 'tap', layer: 'sccp', reason: 'truncated', total: 2, perSecond: 2, sample: { message: 'second', origin: 'x.pcap#2', time: 2, rawBytes: 3 } },
      {
        component: 'tap',
        layer: 'sip',
        reason: 'malformed',
        total: 1,
        perSecond: 1,
        sample: { message: 'bad start line', origin: 'x.pcap#3', time: 3, rawBytes: 3 },
      },
    ]);
  });

  it('bounds the number of distinct message kinds it keeps (a flood of odd SIP methods must not grow memory)', () => {
    const m = new FlowMeter(1000, 10);
    for (let i = 0; i < 50; i++) m.signaling('sip', `X-${i}`, 100);
    const snap = m.snapshot(200);
    expect(snap.signalingByMessage.length).toBeLessThanOrEqual(11);
    expect(snap.signalingByMessage.find((r) => r.message === '(other)')?.total).toBe(40);
    expect(snap.totals.signalingEvents).toBe(50);
  });
});
