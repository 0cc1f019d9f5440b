// Non-INVITE client transaction timers on a manual clock (RFC 3261 §17.1.2.2):
// exact retransmission instants, Timer F, provisional and final responses,
// Timer K, and the reliable-transport variants.
import { describe, expect, it } from 'vitest';
import { newBranch } from '../message/index.ts';
import type { TransportTarget } from '../transport/index.ts';
import { NonInviteClientTransaction, type ClientTransactionOutcome } from './clientTransaction.ts';
import { ManualClock } from '../../../test/support/manualClock.ts';
import { notifyRequest, responseTo } from '../../../test/support/fakeTransport.ts';
import { RFC3261_TIMERS } from './timers.ts';

const UDP: TransportTarget = { transport: 'udp', host: '127.0.0.1', port: 5999 };
const TCP: TransportTarget = { transport: 'tcp', host: '127.0.0.1', port: 5999 };

function setup(target = UDP, send: (b: Buffer) => Promise<void> = async () => {}) {
  const clock = new ManualClock();
  const request = notifyRequest(newBranch(), target.transport);
  const sends: Buffer[] = [];
  const provisional: number[] = [];
  let terminated = 0;
  const tx = new NonInviteClientTransaction({
    request,
    target,
    clock,
    timers: RFC3261_TIMERS,
    send: (b) => {
      sends.push(b);
      return send(b);
    },
    onProvisional: (r) => provisional.push(r.status!),
    onTerminated: () => terminated++,
  });
  let outcome: ClientTransactionOutcome | undefined;
  void tx.outcome.then((o) => (outcome = o));
  return {
    clock,
    request,
    tx,
    sends,
    provisional,
    get terminated() {
      return terminated;
    },
    get outcome() {
      return outcome;
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('NonInviteClientTransaction', () => {
  it('UDP: retransmits at T1 doubling to T2, then times out on Timer F = 64·T1', async () => {
    const s = setup();
    s.tx.start();
    s.clock.advance(31_999);
    expect(s.tx.sentAt).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(new Set(s.sends.map((b) => b.toString())).size).toBe(1); // byte-identical copies
    expect(s.tx.state).toBe('trying');
    s.clock.advance(1);
    await flush();
    expect(s.outcome).toEqual({ kind: 'timeout' });
    expect(s.tx.state).toBe('terminated');
    expect(s.terminated).toBe(1);
    expect(s.clock.pending).toBe(0);
    s.clock.advance(60_000);
    expect(s.sends).toHaveLength(11);
  });

  it('TCP: sends once and still times out on Timer F', async () => {
    const s = setup(TCP);
    s.tx.start();
    s.clock.advance(31_999);
    expect(s.tx.sentAt).toEqual([0]);
    s.clock.advance(1);
    await flush();
    expect(s.outcome).toEqual({ kind: 'timeout' });
  });

  it('a provisional response moves to Proceeding, where Timer E is reset to T2', async () => {
    const s = setup();
    s.tx.start();
    s.clock.advance(700);
    s.tx.receiveResponse(responseTo(s.request, 100));
    expect(s.tx.state).toBe('proceeding');
    expect(s.provisional).toEqual([100]);
    s.clock.advance(9_000); // to t=9700
    expect(s.tx.sentAt).toEqual([0, 500, 1500, 5500, 9500]);
    s.tx.receiveResponse(responseTo(s.request, 180));
    expect(s.provisional).toEqual([100, 180]);
    s.tx.receiveResponse(responseTo(s.request, 200));
    await flush();
    expect(s.outcome?.kind).toBe('response');
  });

  it('a final response resolves, stops retransmissions, and Timer K = T4 absorbs its copies', async () => {
    const s = setup();
    s.tx.start();
    s.clock.advance(600);
    s.tx.receiveResponse(responseTo(s.request, 202));
    await flush();
    expect(s.outcome?.kind === 'response' && s.outcome.response.status).toBe(202);
    expect(s.tx.state).toBe('completed');
    s.tx.receiveResponse(responseTo(s.request, 202));
    s.tx.receiveResponse(responseTo(s.request, 100)); // late provisional: absorbed too
    expect(s.tx.absorbedResponses).toBe(2);
    expect(s.provisional).toEqual([]);
    s.clock.advance(4_999);
    expect(s.tx.state).toBe('completed');
    expect(s.tx.sentAt).toEqual([0, 500]);
    s.clock.advance(1);
    expect(s.tx.state).toBe('terminated');
    expect(s.terminated).toBe(1);
    expect(s.clock.pending).toBe(0);
  });

  it('TCP: a final response terminates at once (Timer K = 0)', async () => {
    const s = setup(TCP);
    s.tx.start();
    s.tx.receiveResponse(responseTo(s.request, 481));
    await flush();
    expect(s.outcome?.kind === 'response' && s.outcome.response.status).toBe(481);
    expect(s.tx.state).toBe('terminated');
    expect(s.clock.pending).toBe(0);
  });

  it('a transport failure ends the transaction with transport-error (§17.1.4)', async () => {
    const s = setup(TCP, async () => {
      throw new Error('ECONNREFUSED');
    });
    s.tx.start();
    await flush();
    expect(s.outcome).toMatchObject({ kind: 'transport-error', error: { message: 'ECONNREFUSED' } });
    expect(s.tx.state).toBe('terminated');
    expect(s.clock.pending).toBe(0);
  });

  it('refuses INVITE/ACK and requests without an RFC 3261 branch', () => {
    const base = { target: UDP, clock: new ManualClock(), timers: RFC3261_TIMERS, send: async () => {} };
    expect(() => new NonInviteClientTransaction({ ...base, request: { ...notifyRequest(), method: 'INVITE' } })).toThrow(/INVITE client transaction/);
    expect(() => new NonInviteClientTransaction({ ...base, request: notifyRequest('old-style-branch') })).toThrow(/RFC 3261 branch/);
  });
});
