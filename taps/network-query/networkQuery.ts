// The "network query" port: presence network agents that ask the network
// (3GPP TS 23.141 §2.2: Le to the GMLC, Pi to the S-CSCF, MAP ATI / Diameter Sh
// to the HLR/HSS) instead of only listening to copied signaling. Each
// implementation (MLP over Le: mlpLocationQuery.ts) answers one question about
// one subscriber with an outcome, never a throw: an agent turns a fact into a
// SignalingEvent and every other outcome into a counted reason. An operator's
// SS7/Diameter gateway adds a query by implementing NetworkQuery<Q, F> and
// running it behind QueryGuard (queryGuard.ts), which adds the rate limit per
// subscriber, the timeout and the metrics by reason.

/** Why a query gave no fact. Stable strings: they are metric labels. */
export type QueryFailureReason =
  /** The network does not know the subscriber (MLP 4, MAP unknownSubscriber, Sh DIAMETER_ERROR_USER_UNKNOWN). */
  | 'unknown-subscriber'
  /** Known but could not be positioned / interrogated now (MLP 6, absentSubscriber). */
  | 'position-method-failure'
  /** The subscriber's own privacy refused us (MLP 2xx privacy results). */
  | 'refused'
  /** No answer within the query's time budget. */
  | 'timeout'
  /** The answer could not be read (not XML, wrong element, missing field). */
  | 'malformed-answer'
  /** Could not reach the network node, or it answered with a failure of its own (MLP 1, HTTP 5xx). */
  | 'system-failure'
  /** Not asked: the subscriber was queried too recently (QueryGuard). */
  | 'rate-limited';

export type QueryOutcome<F> =
  | { readonly ok: true; readonly fact: F }
  | { readonly ok: false; readonly reason: QueryFailureReason; /** Detail for logs: the node's own words. */ readonly detail: string };

/** Options every query honours. */
export interface QueryOptions {
  /** Abort the exchange when this fires (QueryGuard's timeout); the outcome is then 'timeout'. */
  readonly signal: AbortSignal;
}

/**
 * One kind of active query to the network. `Q` is the question (the subscriber
 * and what is asked of it), `F` the fact an answer gives. `ask` resolves with
 * an outcome for every answer, error and timeout; it rejects only on a bug.
 */
export interface NetworkQuery<Q extends { readonly subscriber: string }, F> {
  /** Stable name for metrics and logs: 'location-mlp', 'registration-pi', 'ati-map'. */
  readonly name: string;
  ask(question: Q, options: QueryOptions): Promise<QueryOutcome<F>>;
}

export const failed = (reason: QueryFailureReason, detail: string): QueryOutcome<never> => ({ ok: false, reason, detail });
