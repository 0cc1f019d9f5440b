// Transaction matching (RFC 3261 §17.1.3, §17.2.3) and TU routing, on a fake
// transport and a manual clock.
import { describe, expect, it } from 'vitest';
import { parseSipMessage, type SipMessage } from '../../decode/sip/index.ts';
import { buildResponse, newBranch, serialize } from '../message/index.ts';
import type { MessageSource } from '../transport/index.ts';
import { TransactionLayer, type TransactionUser } from './layer.ts';
import { ManualClock } from '../../../test/support/manualClock.ts';
import type { NonInviteServerTransaction } from './serverTransaction.ts';
import { FakeTransport, subscribeMessage } from '../../../test/support/fakeTransport.ts';

const SRC: MessageSource = { transport: 'udp', address: '127.0.0.1', port: 5999 };

function setup(onRequest: TransactionUser['onRequest'] = (_r, tx) => void tx.respond(200), maxServerTransactions?: number) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const seen: Array<{ request: SipMessage; tx: NonInviteServerTransaction }> = [];
  const layer = new TransactionLayer(
    transport,
    {
      onRequest(request, tx) {
        seen.push({ request, tx });
        return onRequest(request, tx);
      },
    },
    { clock, ...(maxServerTransactions !== undefined ? { maxServerTransactions } : {}) },
  );
  return { clock, transport, layer, seen };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('TransactionLayer', () => {
  it('creates one server transaction per request and absorbs its retransmissions', async () => {
    const s = setup();
    const branch = newBranch();
    s.transport.deliver(subscribeMessage(branch), SRC);
    s.transport.deliver(subscribeMessage(branch), SRC);
    await flush();
    expect(s.seen).toHaveLength(1);
    expect(s.transport.sent.map((_, i) => s.transport.parsed(i).status)).toEqual([200, 200]);
    expect(s.layer.serverTransactionCount).toBe(1);
    s.clock.advance(32_000); // Timer J
    expect(s.layer.serverTransactionCount).toBe(0);
    s.transport.deliver(subscribeMessage(branch), SRC); // after Timer J it is a new request to the TU
    expect(s.seen).toHaveLength(2);
  });

  it('matches on branch, sent-by and method: the same branch with another method or sent-by is another transaction', () => {
    const s = setup();
    const branch = newBranch();
    s.transport.deliver(subscribeMessage(branch, 'SUBSCRIBE'), SRC);
    s.transport.deliver(subscribeMessage(branch, 'PUBLISH'), SRC);
    s.transport.deliver(subscribeMessage(branch, 'SUBSCRIBE', 6000), SRC);
    expect(s.seen.map((x) => [x.request.method, x.request.topVia?.port])).toEqual([
      ['SUBSCRIBE', 5999],
      ['PUBLISH', 5999],
      ['SUBSCRIBE', 6000],
    ]);
    expect(s.layer.serverTransactionCount).toBe(3);
  });

  it('answers 500 when the TU throws or rejects before answering', async () => {
    const s1 = setup(() => {
      throw new Error('bug');
    });
    s1.transport.deliver(subscribeMessage(), SRC);
    const s2 = setup(async () => {
      throw new Error('async bug');
    });
    s2.transport.deliver(subscribeMessage(), SRC);
    await flush();
    expect(s1.transport.parsed(0).status).toBe(500);
    expect(s2.transport.parsed(0).status).toBe(500);
    expect(s1.layer.stats.tuErrors + s2.layer.stats.tuErrors).toBe(2);
  });

  it('routes responses by branch + CSeq method to the client transaction; others are stray', async () => {
    const s = setup();
    const tx = s.layer.request(
      {
        method: 'NOTIFY',
        requestUri: 'sip:watcher@127.0.0.1:5999',
        from: { uri: 'sip:alice@example.com', tag: 'a' },
        to: { uri: 'sip:watcher@example.com', tag: 'w' },
        callId: 'c1',
        cseq: 2,
        headers: [
          ['Event', 'presence'],
          ['Subscription-State', 'active'],
        ],
      },
      { transport: 'udp', host: '127.0.0.1', port: 5999 },
    );
    const sent = s.transport.parsed(0);
    expect(sent.topVia).toMatchObject({ host: '127.0.0.1', port: 5070, branch: tx.branch });
    const ok = parseSipMessage(serialize(buildResponse(sent, 200)));
    // same branch but another method: not ours (§17.1.3)
    const other = parseSipMessage(Buffer.from(serialize(buildResponse(sent, 200)).toString().replace('CSeq: 2 NOTIFY', 'CSeq: 2 SUBSCRIBE')));
    s.transport.deliver(other, SRC);
    expect(s.layer.stats.strayResponses).toBe(1);
    expect(tx.state).toBe('trying');
    s.transport.deliver(ok, SRC);
    const outcome = await tx.outcome;
    expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    expect(s.layer.clientTransactionCount).toBe(1); // Completed until Timer K
    s.clock.advance(5_000);
    expect(s.layer.clientTransactionCount).toBe(0);
    s.transport.deliver(ok, SRC);
    expect(s.layer.stats.strayResponses).toBe(2);
  });

  it('sends a request too large for UDP over TCP, with a TCP Via (§18.1.1)', () => {
    const s = setup();
    const spec = {
      method: 'NOTIFY',
      requestUri: 'sip:w@127.0.0.1:5999',
      from: { uri: 'sip:a@b', tag: 'a' },
      to: { uri: 'sip:w@b', tag: 'w' },
      callId: 'big',
      cseq: 1,
    };
    const small = s.layer.request({ ...spec, body: 'x'.repeat(900) }, { transport: 'udp', host: '127.0.0.1', port: 5999 });
    const big = s.layer.request({ ...spec, body: 'x'.repeat(1300) }, { transport: 'udp', host: '127.0.0.1', port: 5999 });
    expect(s.transport.sent.map((x) => x.target.transport)).toEqual(['udp', 'tcp']);
    expect([small.target.transport, big.target.transport]).toEqual(['udp', 'tcp']);
    expect(s.transport.parsed(1).topVia?.transport).toBe('TCP');
    expect(s.transport.sent[0]!.bytes.length).toBeLessThanOrEqual(1300);
  });

  it('holds at most maxServerTransactions: past them a new request is answered 503 + Retry-After statelessly, the TU never sees it; room again once they end', () => {
    const s = setup(undefined, 3);
    for (let i = 0; i < 5; i++) s.transport.deliver(subscribeMessage(newBranch()), SRC);
    expect(s.seen).toHaveLength(3);
    expect(s.layer.serverTransactionCount).toBe(3);
    const answers = s.transport.sent.map((_, i) => s.transport.parsed(i));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 503, 503]);
    expect(answers[3]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(s.layer.stats.overloaded).toBe(2);
    s.clock.advance(32_000); // Timer J ends the three
    s.transport.deliver(subscribeMessage(newBranch()), SRC);
    expect(s.seen).toHaveLength(4);
  });

  it('refuses INVITE statelessly with 405 + Allow and drops stray ACKs', () => {
    const s = setup();
    s.transport.deliver(subscribeMessage(newBranch(), 'INVITE'), SRC);
    s.transport.deliver(subscribeMessage(newBranch(), 'ACK'), SRC);
    expect(s.seen).toHaveLength(0);
    expect(s.transport.sent).toHaveLength(1);
    const res = s.transport.parsed(0);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('SUBSCRIBE, NOTIFY, PUBLISH, OPTIONS');
    expect(s.layer.stats).toMatchObject({ invitesRefused: 1, strayAcks: 1 });
  });

  it('close() ends unfinished client transactions as timeouts and cancels all timers', async () => {
    const s = setup(() => {}); // TU that never answers
    s.transport.deliver(subscribeMessage(), SRC);
    const tx = s.layer.request(
      { method: 'NOTIFY', requestUri: 'sip:w@127.0.0.1', from: { uri: 'sip:a@b', tag: 'a' }, to: { uri: 'sip:w@b', tag: 'w' }, callId: 'c', cseq: 1 },
      { transport: 'udp', host: '127.0.0.1', port: 5999 },
    );
    s.layer.close();
    expect(await tx.outcome).toEqual({ kind: 'timeout' });
    expect(s.clock.pending).toBe(0);
    expect(s.layer.clientTransactionCount + s.layer.serverTransactionCount).toBe(0);
  });
});
