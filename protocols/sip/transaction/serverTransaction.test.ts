// Non-INVITE server transaction on a manual clock (RFC 3261 §17.2.2): what a
// retransmitted request gets in each state, Timer J, TCP routing with the
// fallback connection of §18.2.2.
import { describe, expect, it } from 'vitest';
import type { SipMessage } from '../../decode/sip/index.ts';
import { newBranch } from '../message/index.ts';
import type { MessageSource } from '../transport/index.ts';
import { ManualClock } from '../../../test/support/manualClock.ts';
import { NonInviteServerTransaction } from './serverTransaction.ts';
import { FakeTransport, subscribeMessage } from '../../../test/support/fakeTransport.ts';
import { RFC3261_TIMERS } from './timers.ts';

const UDP_SRC: MessageSource = { transport: 'udp', address: '127.0.0.1', port: 5999 };
const TCP_SRC: MessageSource = { transport: 'tcp', address: '127.0.0.1', port: 40123 };

function setup(source = UDP_SRC, request: SipMessage = subscribeMessage(newBranch(), 'SUBSCRIBE', 5999, source.transport.toUpperCase())) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  let terminated = 0;
  const tx = new NonInviteServerTransaction({
    request,
    source,
    key: 'k',
    clock,
    timers: RFC3261_TIMERS,
    send: (b, t, o) => transport.send(b, t, o),
    onTerminated: () => terminated++,
  });
  return {
    clock,
    transport,
    tx,
    get terminated() {
      return terminated;
    },
  };
}

describe('NonInviteServerTransaction', () => {
  it('UDP: ignores retransmissions while Trying, repeats the provisional, then the final response', async () => {
    const s = setup();
    s.tx.receiveRetransmission();
    expect(s.transport.sent).toHaveLength(0);
    await s.tx.respond(100);
    expect(s.tx.state).toBe('proceeding');
    s.tx.receiveRetransmission();
    await Promise.resolve();
    expect(s.transport.sent.map((_, i) => s.transport.parsed(i).status)).toEqual([100, 100]);
    await s.tx.respond(200, { headers: [['Expires', '600']] });
    expect(s.tx.state).toBe('completed');
    s.tx.receiveRetransmission();
    s.tx.receiveRetransmission();
    await Promise.resolve();
    const statuses = s.transport.sent.map((_, i) => s.transport.parsed(i).status);
    expect(statuses).toEqual([100, 100, 200, 200, 200]);
    expect(s.transport.sent[4]!.bytes.equals(s.transport.sent[2]!.bytes)).toBe(true);
    expect(s.transport.parsed(2).to?.tag).toBe(s.tx.toTag); // same tag as the 100 would have used
    expect(s.transport.sent.every((x) => x.target.port === 5999 && x.target.transport === 'udp')).toBe(true);
    expect(s.tx.absorbedRequests).toBe(4); // one while Trying, one while Proceeding, two Completed
    await expect(s.tx.respond(500)).rejects.toThrow(/already answered/);
  });

  it('UDP: Timer J = 64·T1 after the final response, then terminated', async () => {
    const s = setup();
    s.clock.advance(1000);
    await s.tx.respond(202);
    s.clock.advance(31_999);
    expect(s.tx.state).toBe('completed');
    s.clock.advance(1);
    expect(s.tx.state).toBe('terminated');
    expect(s.terminated).toBe(1);
    s.tx.receiveRetransmission(); // too late: nothing is sent
    expect(s.transport.sent).toHaveLength(1);
  });

  it('gives up on a TU that never answers once the client has timed out (64·T1)', () => {
    const s = setup();
    s.clock.advance(31_999);
    expect(s.tx.state).toBe('trying');
    s.clock.advance(1);
    expect(s.tx.state).toBe('terminated');
  });

  it('TCP: answers on the existing connection only, and terminates at once (Timer J = 0)', async () => {
    const s = setup(TCP_SRC);
    await s.tx.respond(200);
    expect(s.transport.sent[0]!.target).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 40123 });
    expect(s.transport.sent[0]!.options).toEqual({ reuseOnly: true });
    expect(s.tx.state).toBe('terminated');
    expect(s.clock.pending).toBe(0);
  });

  it('TCP: opens a connection to sent-by when the original one is gone (§18.2.2)', async () => {
    const s = setup(TCP_SRC);
    s.transport.failWhen = (_t, o) => o?.reuseOnly === true;
    await s.tx.respond(200);
    expect(s.transport.sent[0]!.target).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 5999 });
  });

  it('a transport error rejects respond() and terminates the transaction (§17.2.4)', async () => {
    const s = setup();
    s.transport.failWhen = () => true;
    await expect(s.tx.respond(200)).rejects.toThrow(/fake transport failure/);
    expect(s.tx.state).toBe('terminated');
  });
});
