// Builds dead-letter records: what could not be processed, with its raw
// bytes and the reason, so nothing is dropped silently.
import type { DeadLetter } from '../schemas/generated/records.ts';

export function deadLetter(
  component: string,
  layer: string,
  reason: string,
  message: string,
  raw: Buffer,
  origin: string | null,
  context: Record<string, string> = {},
  time = Date.now(),
): DeadLetter {
  return { time, component, layer, reason, message, raw, origin, context };
}
