// RFC 3261 §18.2.1 and RFC 3581 §4: a server transport records where a request
// really came from in the top Via ("received", and "rport" filled in when the
// client asked for it), so responses find their way back through NAT and the
// client learns its public address from the response.
import { SipHeaders, SipMessage, parseVia } from '../../decode/sip/index.ts';
import { splitCommaList } from '../../decode/sip/fieldValues.ts';
import type { MessageSource } from './types.ts';

/** The top Via value with received/rport set for this source; unchanged when nothing applies. */
export function stampViaValue(value: string, source: MessageSource): string {
  const elements = splitCommaList(value);
  const top = elements[0];
  if (top === undefined) return value;
  const via = parseVia(top);
  if (!via) return value;
  const wantsRport = via.rport === null;
  // RFC 3581 §4: with rport the server MUST add received even if it equals sent-by.
  if (via.host === source.address && !wantsRport) return value;
  let stamped = top.replace(/;\s*received\s*=\s*[^;,\s]*/i, '');
  if (wantsRport) stamped = stamped.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${source.port}`);
  stamped += `;received=${source.address}`;
  return [stamped, ...elements.slice(1)].join(', ');
}

/** The message with its top Via stamped; responses and Via-less requests come back as they are. */
export function stampReceived(message: SipMessage, source: MessageSource): SipMessage {
  if (!message.isRequest) return message;
  const names = message.headers.names;
  const i = names.indexOf('via');
  if (i < 0) return message;
  const before = message.headers.values[i]!;
  const after = stampViaValue(before, source);
  if (after === before) return message;
  const values = [...message.headers.values];
  values[i] = after;
  return new SipMessage(
    message.kind,
    message.method,
    message.requestUri,
    message.status,
    message.reason,
    new SipHeaders(names, values),
    message.callId,
    message.cseq,
    message.contentLength,
    message.body,
    message.byteLength,
  );
}
