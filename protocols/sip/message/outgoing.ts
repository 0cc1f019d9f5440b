// The shape of a message we are about to send: a start line's fields and the
// header lines in wire order. Content-Length is never stored here; serialize()
// derives it from the body, so it cannot disagree with what is sent.

export type SipHeaderLine = readonly [name: string, value: string];

export interface OutgoingRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly requestUri: string;
  readonly headers: readonly SipHeaderLine[];
  readonly body: Buffer;
}

export interface OutgoingResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly SipHeaderLine[];
  readonly body: Buffer;
}

export type OutgoingMessage = OutgoingRequest | OutgoingResponse;

/** First value of a header (case-insensitive full name); for tests and transaction bookkeeping. */
export function outgoingHeader(msg: OutgoingMessage, name: string): string | undefined {
  const n = name.toLowerCase();
  return msg.headers.find(([h]) => h.toLowerCase() === n)?.[1];
}
