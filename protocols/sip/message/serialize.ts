// Outgoing message → wire bytes (RFC 3261 §7). Content-Length is always written
// and always computed: it is mandatory on stream transports (§18.3) and a stale
// value copied from elsewhere would desynchronise the peer's framer.
import type { OutgoingMessage } from './outgoing.ts';

const CRLF = '\r\n';

function startLine(msg: OutgoingMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.requestUri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

export function serialize(msg: OutgoingMessage): Buffer {
  let head = startLine(msg) + CRLF;
  for (const [name, value] of msg.headers) {
    if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'l') continue;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      // A CR/LF inside a value would let caller-supplied text forge headers.
      throw new Error(`SIP header ${name} contains a line break`);
    }
    head += `${name}: ${value}${CRLF}`;
  }
  head += `Content-Length: ${msg.body.length}${CRLF}${CRLF}`;
  return msg.body.length ? Buffer.concat([Buffer.from(head, 'utf8'), msg.body]) : Buffer.from(head, 'utf8');
}
