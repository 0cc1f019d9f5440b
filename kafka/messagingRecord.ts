// A messaging system's fact as the record its subscriber's event manager
// applies: a SignalingEvent (protocol `messaging`) keyed by the subscriber on
// signaling-events. Written by the availability service's HTTP publish and by
// the SIP front end's PUBLISH of message-summary (issue 17.5), one path for
// every source.
import { createHash, randomUUID } from 'node:crypto';
import type { MessageNotice } from '../presence-document/messageNotice.ts';
import type { MessageSummary } from '../presence-document/messageSummary.ts';
import type { MessagingFacts, SignalingEvent } from '../schemas/generated/records.ts';

/** Message facts for the record (Avro's mutable arrays). */
export const summaryFacts = (s: MessageSummary): MessagingFacts => ({
  summary: { waiting: s.waiting, account: s.account, classes: s.classes.map((c) => ({ ...c })) },
  notice: null,
});
export const noticeFacts = (n: MessageNotice): MessagingFacts => ({ summary: null, notice: { ...n } });

/**
 * The event of a publish. A message's id is derived from its messageId, so a retry is the same event; a
 * summary's is fresh each time (the same counts again would otherwise pass for a repeat after other counts came
 * between), and applying the same summary twice tells nobody anything twice (the event manager compares it).
 */
export function messagingEvent(key: string, facts: MessagingFacts, at: number): SignalingEvent {
  const what = facts.notice ? `message:${facts.notice.messageId}` : `summary:${randomUUID()}`;
  const eventId = `messaging-api:${createHash('sha256').update(`${key}\u0000${what}`).digest('base64url').slice(0, 22)}`;
  return {
    eventId,
    time: at,
    subscriber: key,
    identities: { imsi: null, msisdn: key.startsWith('msisdn:') ? key.slice(7) : null, aor: key.startsWith('aor:') ? key.slice(4) : null },
    protocol: 'messaging',
    message: facts.notice ? 'new-message' : 'message-summary',
    kind: 'request',
    source: { tap: 'messaging-api', capture: null, frame: 0 },
    map: null,
    isup: null,
    location: null,
    sip: null,
    messaging: facts,
  };
}
