// The body of an `Event: message` NOTIFY (one per new message, as the IM seed
// 003 describes): the NOTIFY announces a message, it does not carry it. Its
// Content-Type is the message's kind (text/plain for an SMS, audio/… for a voice
// mail, as announced); its body is this small header block — the message's
// origin (From) and where to fetch it (Contact), which the NOTIFY's own From and
// Contact cannot say (those belong to the subscription dialog, RFC 6665 §4.1.2).
//
//   Message-Id: vm-4711
//   From: <tel:+441632960001>
//   Contact: <https://vm.example.net/m/4711>
//   Message-Context: voice-message
//   Date: Sun, 06 Dec 2026 23:59:06 GMT
//   Subject: call me back
//
// CRLF-terminated lines; Contact and Subject only when known.
import { DecodeError } from '../protocols/decode/layer.ts';
import { MESSAGE_CONTEXTS, type MessageContext } from './messageSummary.ts';

export interface MessageNotice {
  /** Unique per message at its source: repeats of one announcement are told once. */
  readonly messageId: string;
  /** The message's kind as a media type: the NOTIFY's Content-Type. */
  readonly contentType: string;
  /** Who sent it: a sip:/tel: URI (an SMS: the originating number, else its service centre). */
  readonly origin: string;
  /** Where to fetch it (messaging server or URL); null when the source names none (an SMS went to the handset). */
  readonly contact: string | null;
  readonly context: MessageContext;
  readonly receivedAt: number;
  readonly subject: string | null;
}

/** type/subtype (RFC 2045 tokens), no parameters: what a kind may be. */
export const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

const bad = (why: string) => new DecodeError('message-notice', 'malformed', why);
/** Header values stay on one line: a CR/LF in a field would forge another header. */
const oneLine = (v: string) => v.replace(/[\r\n]+/g, ' ');

export function renderMessageNotice(n: MessageNotice): string {
  const lines = [`Message-Id: ${oneLine(n.messageId)}`, `From: <${oneLine(n.origin)}>`];
  if (n.contact) lines.push(`Contact: <${oneLine(n.contact)}>`);
  lines.push(`Message-Context: ${n.context}`, `Date: ${new Date(n.receivedAt).toUTCString()}`);
  if (n.subject) lines.push(`Subject: ${oneLine(n.subject)}`);
  return lines.map((l) => `${l}\r\n`).join('');
}

/** A notice body (with the NOTIFY's Content-Type) → model; a missing Message-Id/From/Date → DecodeError. */
export function parseMessageNotice(body: string, contentType: string): MessageNotice {
  const h = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):[ \t]*(.*)$/.exec(line.trimEnd());
    if (m) h.set(m[1]!.toLowerCase(), m[2]!);
  }
  const unbracket = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^<(.*)>$/, '$1'));
  const messageId = h.get('message-id');
  const origin = unbracket(h.get('from'));
  const date = Date.parse(h.get('date') ?? '');
  if (!messageId || !origin || Number.isNaN(date)) throw bad('Message-Id, From and Date are required');
  const context = (h.get('message-context') ?? 'none').toLowerCase();
  if (!(MESSAGE_CONTEXTS as readonly string[]).includes(context)) throw bad(`unknown Message-Context ${context}`);
  return {
    messageId,
    contentType,
    origin,
    contact: unbracket(h.get('contact')) ?? null,
    context: context as MessageContext,
    receivedAt: date,
    subject: h.get('subject') ?? null,
  };
}
