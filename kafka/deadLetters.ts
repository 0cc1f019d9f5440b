// Builds dead-letter records: what could not be processed, with its raw
// bytes and the reason, so nothing is dropped silently.
import type { DeadLetter } from '../schemas/generated/records.ts';
import { classifyError } from './errorClass.ts';
import { PartitionNotOwned } from './ownedPartitions.ts';
import { asError } from './rdkafkaPromises.ts';

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

/**
 * The dead letter for an input record whose processing failed, when the record is to blame.
 * A partition no longer owned (a rebalance) or an outage (database, registry) is not the
 * record's fault: rethrown, so the batch aborts and is re-read by whoever owns it.
 */
export function deadLetterForFailure(
  err: unknown,
  component: string,
  recordLayer: string,
  record: { readonly key: string | null; readonly value: Buffer | null },
  origin: string | null,
): DeadLetter {
  if (err instanceof PartitionNotOwned) throw err;
  const why = classifyError(err);
  if (why.kind === 'outage') throw err;
  const layer = why.layer === 'record' ? recordLayer : why.layer;
  return deadLetter(component, layer, why.reason, asError(err).message, record.value ?? Buffer.alloc(0), origin, { key: record.key ?? '' });
}
