import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../../protocols/decode/sip/index.ts';
import type { ClientTransactionOutcome } from '../../../protocols/sip/transaction/index.ts';
import { backoffMs, checkRetryPolicy, decideAttempt, type RetryPolicy } from './policy.ts';

const P: RetryPolicy = { maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 5000, retryAfterMaxMs: 60_000, unansweredMaxAttempts: 3 };

function answer(status: number, extra = ''): ClientTransactionOutcome {
  const raw = `SIP/2.0 ${status} Whatever\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\n${extra}Content-Length: 0\r\n\r\n`;
  return { kind: 'response', response: parseSipMessage(Buffer.from(raw)) };
}

describe('delivery outcome policy', () => {
  it('2xx delivered; 481 and 404 gone; other 3xx/4xx/6xx rejected — all final at once', () => {
    expect(decideAttempt(answer(200), 1, P)).toEqual({ kind: 'final', outcome: 'delivered', statusCode: 200, reason: null });
    expect(decideAttempt(answer(202), 1, P)).toMatchObject({ kind: 'final', outcome: 'delivered', statusCode: 202 });
    expect(decideAttempt(answer(481), 1, P)).toMatchObject({ kind: 'final', outcome: 'gone', statusCode: 481 });
    expect(decideAttempt(answer(404), 1, P)).toMatchObject({ kind: 'final', outcome: 'gone', statusCode: 404 });
    for (const s of [302, 400, 403, 415, 489, 603]) expect(decideAttempt(answer(s), 1, P)).toMatchObject({ kind: 'final', outcome: 'rejected', statusCode: s });
  });

  it('408, 5xx, Timer F and transport errors retry with exponential backoff, then give up after maxAttempts', () => {
    expect(decideAttempt(answer(408), 1, P)).toMatchObject({ kind: 'retry', delayMs: 1000, statusCode: 408 });
    expect(decideAttempt(answer(503), 2, P)).toMatchObject({ kind: 'retry', delayMs: 2000, statusCode: 503 });
    expect(decideAttempt({ kind: 'timeout' }, 1, P)).toMatchObject({ kind: 'retry', delayMs: 1000, statusCode: null, reason: 'timeout (Timer F)' });
    expect(decideAttempt({ kind: 'transport-error', error: new Error('ECONNREFUSED') }, 1, P)).toMatchObject({
      kind: 'retry',
      reason: 'transport error: ECONNREFUSED',
    });
    const last = decideAttempt({ kind: 'timeout' }, 3, P);
    expect(last).toMatchObject({ kind: 'final', outcome: 'gave-up', statusCode: null });
    expect(last.reason).toMatch(/timeout.*gave up after 3 attempts/);
    expect(decideAttempt(answer(503), 3, P)).toMatchObject({ kind: 'final', outcome: 'gave-up', statusCode: 503 });
  });

  it('honours Retry-After on 5xx (longer than the backoff), capped', () => {
    expect(decideAttempt(answer(503, 'Retry-After: 7\r\n'), 1, P)).toMatchObject({ kind: 'retry', delayMs: 7000 });
    expect(decideAttempt(answer(503, 'Retry-After: 3600 (maintenance)\r\n'), 1, P)).toMatchObject({ kind: 'retry', delayMs: 60_000 });
    // A Retry-After shorter than the backoff does not shorten it.
    expect(decideAttempt(answer(503, 'Retry-After: 0\r\n'), 2, P)).toMatchObject({ kind: 'retry', delayMs: 2000 });
  });

  it('backoff doubles up to the cap; policies are checked', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, P))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(() => checkRetryPolicy({ ...P, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => checkRetryPolicy({ ...P, backoffBaseMs: -1 })).toThrow(RangeError);
    expect(decideAttempt({ kind: 'timeout' }, 1, { ...P, maxAttempts: 1 })).toMatchObject({ kind: 'final', outcome: 'gave-up' });
  });

  it('a 500 to a re-sent CSeq counts as delivered: the watcher has seen that CSeq (RFC 3261 §12.2.2, a strict UA like PJSIP answers 500)', () => {
    // Re-sent by this sink (a retry after a timeout whose request did arrive) …
    expect(decideAttempt(answer(500), 2, P)).toMatchObject({ kind: 'final', outcome: 'delivered', statusCode: 500 });
    // … or possibly sent before by an earlier reader of the record (crash, rebalance).
    expect(decideAttempt(answer(500), 1, P, true)).toMatchObject({ kind: 'final', outcome: 'delivered', statusCode: 500 });
    // A first send's 500, and other 5xx, are still failures to retry.
    expect(decideAttempt(answer(500), 1, P)).toMatchObject({ kind: 'retry', statusCode: 500 });
    expect(decideAttempt(answer(503), 2, P, true)).toMatchObject({ kind: 'retry', statusCode: 503 });
  });
});
