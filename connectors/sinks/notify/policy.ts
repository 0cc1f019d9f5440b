// What a NOTIFY's answer means for delivery (RFC 6665 §4.1.3 / §4.2.2 from the
// notifier's side) and when to try again. Pure: unit-tested without sockets.
//
//   2xx                    → delivered
//   481, 404               → gone      (the dialog/subscription no longer exists;
//                                       the event manager forgets it)
//   408, Timer F timeout,
//   transport error, 5xx   → retry with exponential backoff (Retry-After honoured),
//                            up to maxAttempts, then gave-up; while the watcher has
//                            answered none of the attempts (Timer F, transport
//                            errors only) up to unansweredMaxAttempts: a Contact
//                            that never answers may be someone else's address
//                            (RFC 6665 §9) and timeouts end a subscription (§4.2.2)
//   other 3xx/4xx/6xx      → rejected  (we follow no redirects for an in-dialog request)
//   500 to a re-sent CSeq  → delivered (a retry, or a record an earlier reader may
//                            have sent: the UA has seen this CSeq, RFC 3261 §12.2.2;
//                            retrying it only repeats the 500 and would end the dialog)
// ('superseded' is decided by the sink, not by an answer: a queued NOTIFY
// replaced by a newer one of its dialog, scheduling.ts.)
import { parseRetryAfter } from '../../../protocols/decode/sip/index.ts';
import type { ClientTransactionOutcome } from '../../../protocols/sip/transaction/index.ts';

export type DeliveryOutcome = 'delivered' | 'gone' | 'gave-up' | 'rejected' | 'superseded';

export interface RetryPolicy {
  /** Total attempts (transactions) per NOTIFY, including the first. */
  readonly maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each time. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Upper bound on a Retry-After we honour (a watcher cannot park a dialog for a day). */
  readonly retryAfterMaxMs: number;
  /** Total attempts while no attempt got any answer (timeouts, transport errors): a silent Contact is given up on sooner. */
  readonly unansweredMaxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  retryAfterMaxMs: 120_000,
  unansweredMaxAttempts: 2,
};

type AttemptDecision =
  | { readonly kind: 'final'; readonly outcome: DeliveryOutcome; readonly statusCode: number | null; readonly reason: string | null }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly statusCode: number | null; readonly reason: string };

export function checkRetryPolicy(p: RetryPolicy): RetryPolicy {
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) throw new RangeError(`maxAttempts must be >= 1, not ${p.maxAttempts}`);
  if (!Number.isInteger(p.unansweredMaxAttempts) || p.unansweredMaxAttempts < 1)
    throw new RangeError(`unansweredMaxAttempts must be >= 1, not ${p.unansweredMaxAttempts}`);
  for (const k of ['backoffBaseMs', 'backoffMaxMs', 'retryAfterMaxMs'] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`${k} must be >= 0, not ${p[k]}`);
  }
  return p;
}

/** Backoff before attempt `attempt + 1` after `attempt` failed (1-based): base·2^(attempt−1), capped. */
export function backoffMs(attempt: number, p: RetryPolicy): number {
  return Math.min(p.backoffMaxMs, p.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Classifies one transaction's outcome after `attempt` attempts (1-based).
 * `sentBefore`: the record may have been sent by an earlier reader (read again
 * after a crash or rebalance). `answeredBefore`: an earlier attempt of this
 * NOTIFY got a response (the Contact is someone who answers).
 */
export function decideAttempt(outcome: ClientTransactionOutcome, attempt: number, p: RetryPolicy, sentBefore = false, answeredBefore = false): AttemptDecision {
  let statusCode: number | null = null;
  let reason: string;
  let retryAfterMs: number | undefined;
  if (outcome.kind === 'response') {
    const status = outcome.response.status ?? 0;
    statusCode = status;
    reason = `${status} ${outcome.response.reason ?? ''}`.trim();
    if (status >= 200 && status < 300) return { kind: 'final', outcome: 'delivered', statusCode, reason: null };
    if (status === 481 || status === 404) return { kind: 'final', outcome: 'gone', statusCode, reason };
    if (status === 500 && (sentBefore || attempt > 1))
      return { kind: 'final', outcome: 'delivered', statusCode, reason: `${reason} to a re-sent CSeq: already received` };
    const retryable = status === 408 || (status >= 500 && status < 600);
    if (!retryable) return { kind: 'final', outcome: 'rejected', statusCode, reason };
    const ra = outcome.response.headers.get('retry-after');
    const secs = ra === undefined ? undefined : parseRetryAfter(ra);
    if (secs !== undefined) retryAfterMs = Math.min(secs * 1000, p.retryAfterMaxMs);
  } else if (outcome.kind === 'timeout') {
    reason = 'timeout (Timer F)';
  } else {
    reason = `transport error: ${outcome.error.message}`;
  }
  if (attempt >= p.maxAttempts) return { kind: 'final', outcome: 'gave-up', statusCode, reason: `${reason}; gave up after ${attempt} attempts` };
  if (outcome.kind !== 'response' && !answeredBefore && attempt >= p.unansweredMaxAttempts)
    return { kind: 'final', outcome: 'gave-up', statusCode, reason: `${reason}; gave up after ${attempt} unanswered attempts` };
  return { kind: 'retry', delayMs: Math.max(backoffMs(attempt, p), retryAfterMs ?? 0), statusCode, reason };
}
