// Waiting in tests and benches: a plain pause, and one bounded poll for a
// condition or a value that arrives asynchronously (a record consumed, a row
// written, a socket closed). Production code uses node:timers/promises instead.
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export interface EventuallyOptions {
  /** How long to keep probing before failing (default 10 s). */
  timeoutMs?: number;
  /** The pause between probes (default 100 ms). */
  intervalMs?: number;
}

/** What a probe answers while the awaited thing has not happened yet. */
type NotYet = undefined | null | false;

/**
 * Calls `probe` until it answers something other than undefined, null or false
 * and returns that answer. A boolean probe thus waits for true; a value probe
 * for its value (0 and '' count as values). The probe may be sync or async; one
 * that throws is tried again, as if it had answered "not yet".
 *
 * Past `timeoutMs` it fails with an Error naming `what` (evaluated then, so it
 * may describe the state at the deadline) and the last answer or error seen;
 * that error is also the failure's `cause`.
 */
export async function eventually<T>(what: string | (() => string), probe: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Exclude<T, NotYet>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: { answer: unknown } | { error: unknown } | undefined;
  for (;;) {
    try {
      const answer = await probe();
      if (answer !== undefined && answer !== null && answer !== false) return answer as Exclude<T, NotYet>;
      last = { answer };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const name = typeof what === 'function' ? what() : what;
      const seen = last && 'error' in last ? `last error: ${describeError(last.error)}` : `last answer: ${String(last?.answer)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${name} (${seen})`, last && 'error' in last ? { cause: last.error } : undefined);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** `p`, or an error naming `what` once `ms` passed without it. */
export async function within<T>(what: string, p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
