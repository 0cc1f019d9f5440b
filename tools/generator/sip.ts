// SIP requests and responses (RFC 3261) as text written straight into the
// frame. Responses mirror the request's Via/From/To/Call-ID/CSeq as §8.2.6
// requires; the body length is counted in octets (bodies are ASCII).
import type { Writer } from '../../protocols/decode/byteWriter.ts';

export interface SipTransaction {
  method: string;
  requestUri: string;
  /** Sent-by host:port of the client (top Via). */
  via: string;
  branch: string;
  from: string;
  fromTag: string;
  to: string;
  /** Set for in-dialog requests and all but provisional-less responses. */
  toTag?: string;
  callId: string;
  cseq: number;
}

export interface SipBody {
  type: string;
  text: string;
}

// Each message is assembled as one string and written with a single call:
// crossing into Buffer.write per header line costs more than the concatenation.
function common(tx: SipTransaction, toTag: string | undefined): string {
  return (
    `Via: SIP/2.0/UDP ${tx.via};branch=${tx.branch}\r\n` +
    `From: <${tx.from}>;tag=${tx.fromTag}\r\n` +
    (toTag ? `To: <${tx.to}>;tag=${toTag}\r\n` : `To: <${tx.to}>\r\n`) +
    `Call-ID: ${tx.callId}\r\nCSeq: ${tx.cseq} ${tx.method}\r\n`
  );
}

function finish(extra: string, body?: SipBody): string {
  return body ? `${extra}Content-Type: ${body.type}\r\nContent-Length: ${body.text.length}\r\n\r\n${body.text}` : `${extra}Content-Length: 0\r\n\r\n`;
}

/** `extra` is further header lines, each ending CRLF. */
export function sipRequest(w: Writer, tx: SipTransaction, extra: string, body?: SipBody): void {
  // ACK for a non-2xx final response reuses the INVITE's CSeq number (§17.1.1.3).
  w.ascii(`${tx.method} ${tx.requestUri} SIP/2.0\r\n${common(tx, tx.toTag)}Max-Forwards: 70\r\n${finish(extra, body)}`);
}

export function sipResponse(w: Writer, tx: SipTransaction, code: number, reason: string, toTag: string | undefined, extra: string, body?: SipBody): void {
  w.ascii(`SIP/2.0 ${code} ${reason}\r\n${common(tx, toTag)}${finish(extra, body)}`);
}
