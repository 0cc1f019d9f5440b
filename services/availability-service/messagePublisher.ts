// A messaging system's publish (issue 17.5: a voicemail platform): a mailbox's
// summary (RFC 3842 counts) or one new message, validated and sent as a
// SignalingEvent (protocol `messaging`) keyed by the subscriber on
// signaling-events, where its owning event manager applies it as it applies the
// taps' message-summary NOTIFYs and SMS — one path for every source. Nothing of
// it is stored here: the caller is answered only once Kafka acknowledged the
// record's transaction committed (kafka/transactionalRecordWriter.ts); Kafka down → 503 and the publisher retries. A retry is
// idempotent: a message's event id is derived from its id, which the event
// manager tells once; a summary applied again changes nothing.
// (Why not the outbox the profiles use: nothing here is state this service keeps —
// the event manager holds the summary — so there is no row to commit with it.)
import type { Settings } from '../../config/settings.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../kafka/transactionalRecordWriter.ts';
import { HttpError } from '../../protocols/http/jsonRequest.ts';
import type { MessagingFacts } from '../../schemas/generated/records.ts';
import { messagingEvent } from '../../kafka/messagingRecord.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { MESSAGE_CONTEXTS, type MessageClassCount, type MessageContext, type MessageSummary } from '../../presence-document/messageSummary.ts';
// The record builders moved to kafka/ (the SIP front end's PUBLISH writes the same record); re-exported for this service's callers.
export { messagingEvent, noticeFacts, summaryFacts } from '../../kafka/messagingRecord.ts';
import { MEDIA_TYPE, type MessageNotice } from '../../presence-document/messageNotice.ts';

/** What the HTTP API needs (tests give their own). */
export interface MessageService {
  /** Sends the fact for `key`; resolves with the event id once Kafka acknowledged it. */
  publish(key: string, facts: MessagingFacts, at: number): Promise<string>;
}

const field = (name: string, why: string) => new HttpError(400, `${name}: ${why}`, {}, name);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"]+$/;
const MAX_COUNT = 0xffff_ffff;

function count(o: Record<string, unknown>, name: string, path: string): number {
  const v = o[name] ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNT) throw field(`${path}.${name}`, 'must be a whole number from 0 to 2^32-1');
  return v;
}

/**
 * `PUT /subscribers/{s}/message-summary` body → summary:
 * `{"account"?: URI, "messages": {"voice-message": {"new": 2, "old": 8, "urgentNew"?: 0, "urgentOld"?: 2}, …}, "waiting"?: bool}`.
 * `waiting` defaults to whether any class has new messages.
 */
export function parseSummaryRequest(body: unknown): MessageSummary {
  if (!isObject(body)) throw field('body', 'must be an object {account?, messages, waiting?}');
  if (body.account !== undefined && body.account !== null && (typeof body.account !== 'string' || !URI.test(body.account)))
    throw field('account', 'must be a URI (sip:, sips:, tel:, http: …)');
  if (!isObject(body.messages)) throw field('messages', `must be an object by class (${MESSAGE_CONTEXTS.join(', ')})`);
  const classes: MessageClassCount[] = [];
  for (const [name, v] of Object.entries(body.messages)) {
    if (!(MESSAGE_CONTEXTS as readonly string[]).includes(name)) throw field(`messages.${name}`, `unknown class; one of ${MESSAGE_CONTEXTS.join(', ')}`);
    if (!isObject(v)) throw field(`messages.${name}`, 'must be an object {new, old, urgentNew?, urgentOld?}');
    const path = `messages.${name}`;
    classes.push({
      context: name as MessageContext,
      newCount: count(v, 'new', path),
      oldCount: count(v, 'old', path),
      urgentNew: count(v, 'urgentNew', path),
      urgentOld: count(v, 'urgentOld', path),
    });
  }
  if (body.waiting !== undefined && typeof body.waiting !== 'boolean') throw field('waiting', 'must be true or false');
  const waiting = (body.waiting as boolean | undefined) ?? classes.some((c) => c.newCount > 0);
  return { waiting, account: (body.account as string | undefined) ?? null, classes: MESSAGE_CONTEXTS.flatMap((c) => classes.filter((x) => x.context === c)) };
}

const text = (o: Record<string, unknown>, name: string, max: number, test?: RegExp, why?: string): string | null => {
  const v = o[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v === '' || v.length > max || /[\r\n\0]/.test(v) || (test && !test.test(v)))
    throw field(name, why ?? `must be a one-line string of at most ${max} characters`);
  return v;
};

/**
 * `POST /subscribers/{s}/messages` body → notice:
 * `{"messageId": "vm-4711", "contentType": "audio/wav", "origin": "tel:+44…", "contact"?: URI, "context"?: "voice-message", "subject"?: …}`.
 */
export function parseMessageRequest(body: unknown, at: number): MessageNotice {
  if (!isObject(body)) throw field('body', 'must be an object {messageId, contentType, origin, contact?, context?, subject?}');
  const messageId = text(body, 'messageId', 200);
  if (!messageId) throw field('messageId', 'is required (unique per message: a retry with the same id is told once)');
  const contentType = text(body, 'contentType', 100, MEDIA_TYPE, 'must be a media type such as audio/wav or text/plain');
  if (!contentType) throw field('contentType', 'is required: the message kind (a media type such as audio/wav)');
  const origin = text(body, 'origin', 300, URI, 'must be a URI (sip:, tel: …)');
  if (!origin) throw field('origin', 'is required: who sent the message (a URI)');
  const context = text(body, 'context', 30) ?? 'voice-message';
  if (!(MESSAGE_CONTEXTS as readonly string[]).includes(context)) throw field('context', `must be one of ${MESSAGE_CONTEXTS.join(', ')}`);
  return {
    messageId,
    contentType: contentType.toLowerCase(),
    origin,
    contact: text(body, 'contact', 500, URI, 'must be a URI where the message is fetched (https:, sip: …)'),
    context: context as MessageContext,
    receivedAt: at,
    subject: text(body, 'subject', 200),
  };
}

export class KafkaMessageService implements MessageService {
  private readonly serde: RecordSerde;
  private producer: TransactionalRecordWriter | undefined;

  constructor(private readonly s: Settings) {
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
  }

  async start(): Promise<void> {
    await this.serde.loadIds();
    // Transactional: an idempotent producer can write a record twice across an epoch bump (issue 12).
    this.producer = new TransactionalRecordWriter({
      brokers: this.s.kafka.brokers,
      clientId: 'availability-messages',
      transactionalId: writerTransactionalId(this.s.topics.prefix, 'availability-service-messages'),
      deliveryTimeoutMs: 30_000,
    });
    await this.producer.connect();
  }

  async publish(key: string, facts: MessagingFacts, at: number): Promise<string> {
    if (!this.producer) throw new Error('message service not started');
    const e = messagingEvent(key, facts, at);
    await this.producer.send(topicName(this.s.topics.prefix, 'signaling-events'), key, this.serde.encode('signaling-events', e), at);
    return e.eventId;
  }

  async close(): Promise<void> {
    await this.producer?.close();
  }
}
