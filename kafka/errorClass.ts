// Outage or bad input? A processor that dead-letters a record because the
// schema registry or the database did not answer loses good data; one that
// retries a record the database refuses as invalid (SQLSTATE class 22) retries
// it forever and holds back every record behind it. Callers dead-letter only
// `bad-input` and abort/retry (or stop) on `outage`.

export type ErrorKind = 'outage' | 'bad-input';

export interface ClassifiedError {
  kind: ErrorKind;
  /** Dead-letter layer and reason for bad input (`database`/`sqlstate-22021`, `registry`/`http-404`, `record`/`malformed`). */
  layer: string;
  reason: string;
}

/** Thrown (or used as a cause) to say a dependency failed, not the record: never dead-lettered. */
export class OutageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutageError';
  }
}

/**
 * The error a member stops with once a dependency has failed past its outage limit
 * (maxOutageMs): how long, the limit, the last failure (`cause` its original), and `kept` — why nothing is lost.
 */
export function outageLimitError(outageMs: number, limitMs: number, last: Error, kept: string, cause: unknown = last): Error {
  return new Error(
    `dependency outage for ${Math.round(outageMs / 1000)} s, past the max outage wait of ${Math.round(limitMs / 1000)} s: ${last.message} (stopping; nothing discarded: ${kept})`,
    { cause },
  );
}

/** Node socket errors: the peer is not there (yet), or went away. */
const SOCKET_CODES = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ESOCKETTIMEDOUT)$/;
/** The same, as node-postgres and mappersmith put them in messages (they drop the code). */
const OUTAGE_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|socket hang up|Timeout \(\d+ms\)|timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable|Client was closed|Query read timeout/i;
/**
 * SQLSTATE classes caused by the values sent, not by the server's state:
 * 22 data exception (e.g. 22021 invalid byte sequence: a NUL in text),
 * 54 program limit exceeded (e.g. a value too large for an index row).
 * Every other SQLSTATE (08 connection, 53 resources, 57 operator intervention,
 * 40 rollback, 42 a table renamed away during a migration ...) is the database's
 * state: retrying may succeed.
 */
const DATA_SQLSTATE_CLASSES = new Set(['22', '54']);

interface ErrorFields {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  severity?: unknown;
  cause?: unknown;
}

function isSqlState(e: ErrorFields): e is ErrorFields & { code: string } {
  // node-postgres DatabaseError: a five-character SQLSTATE and a severity.
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

function classifyOne(e: ErrorFields): ClassifiedError | undefined {
  if (e instanceof OutageError) return { kind: 'outage', layer: 'dependency', reason: 'unavailable' };
  if (isSqlState(e)) {
    return DATA_SQLSTATE_CLASSES.has(e.code.slice(0, 2))
      ? { kind: 'bad-input', layer: 'database', reason: `sqlstate-${e.code}` }
      : { kind: 'outage', layer: 'database', reason: `sqlstate-${e.code}` };
  }
  if (typeof e.code === 'string' && SOCKET_CODES.test(e.code)) return { kind: 'outage', layer: 'network', reason: e.code };
  const message = typeof e.message === 'string' ? e.message : '';
  if (OUTAGE_MESSAGES.test(message)) return { kind: 'outage', layer: 'network', reason: 'unreachable' };
  if (typeof e.status === 'number') {
    // Registry answers: it is there and says no (404 unknown schema id) — unless it is overloaded or failing.
    const s = e.status;
    if (s === 0 || s === 408 || s === 429 || s >= 500) return { kind: 'outage', layer: 'registry', reason: `http-${s}` };
    if (s >= 400) return { kind: 'bad-input', layer: 'registry', reason: `http-${s}` };
  }
  return undefined;
}

/** Classifies an error by itself and its causes (first that says something); unknown errors are bad input. */
export function classifyError(err: unknown): ClassifiedError {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === 'object'; depth++) {
    const c = classifyOne(e as ErrorFields);
    if (c) return c;
    e = (e as ErrorFields).cause;
  }
  return { kind: 'bad-input', layer: 'record', reason: 'malformed' };
}

export function isOutage(err: unknown): boolean {
  return classifyError(err).kind === 'outage';
}
