// Drives an event manager's topic handlers over records of one subscriber, as
// its loop would, without Kafka, a registry or a database: decode hands out the
// records in turn, encode passes JSON, the rules answer what `decide` says.
// The state goes through its changelog record after each, as a restore would.
import type { OutputRecord } from '../../kafka/transactionalProcessor.ts';
import type { SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import type { RecordSerde } from '../../schemas/serde.ts';
import type { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { EventManagerContext } from '../../streams/event-manager/handlers/context.ts';
import { signalingEvents } from '../../streams/event-manager/handlers/signalingEvents.ts';
import { subscriptions } from '../../streams/event-manager/handlers/subscriptions.ts';
import { fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../../streams/event-manager/managedSubscriber.ts';

type HandledRecord = Subscription | SignalingEvent;

/** A context whose serde decodes `records` in order (topic prefix 'unit.'); `decide(watcherUri)` is the rules' answer. */
export function handlerContext(records: HandledRecord[], decide: (watcherUri: string) => string): EventManagerContext {
  const serde = { decode: async () => records.shift(), encode: (_t: string, r: unknown) => Buffer.from(JSON.stringify(r)) } as unknown as RecordSerde;
  const rules = { decide: async (_p: string, w: string) => decide(w) } as unknown as WatcherRules;
  return new EventManagerContext(serde, rules, 'unit.', 'stream');
}

/** Each record through its handler (SignalingEvent or Subscription); what they wrote, decoded, per topic. */
export async function runHandlers(
  ctx: EventManagerContext,
  key: string,
  records: readonly HandledRecord[],
): Promise<{ m: ManagedSubscriber; out: OutputRecord[] }> {
  let m = newSubscriber(key);
  const out: OutputRecord[] = [];
  for (const r of records) {
    const handler = 'eventId' in r ? signalingEvents : subscriptions;
    await handler.handle(ctx, 0, key, Buffer.alloc(1), m, out);
    m = fromStateRecord(toStateRecord(m));
  }
  return { m, out };
}

/** The records written to `topic` (under the 'unit.' prefix), as JSON. */
export const written = <T>(out: readonly OutputRecord[], topic: string): T[] =>
  out.filter((o) => o.topic === `unit.${topic}`).map((o) => JSON.parse(o.value!.toString()) as T);
