// Fixtures for this folder's decision tests (SUBSCRIBE, group SUBSCRIBE,
// PUBLISH): one numbering plan, a handler context with a fixed clock, ids and
// To-tag, and requests parsed from a header list a test can trim or extend.
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { presentityKey } from '../../front-end/subscribeHandler.ts';
import { type HandlerContext } from '../../front-end/handlerContext.ts';

export const plan = { countryCode: '351' };

export const handlerContext: HandlerContext = {
  policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 },
  resolveKey: (uri) => presentityKey(uri, plan),
  frontEndId: 'fe-1',
  contact: 'sip:127.0.0.1:5060',
  toTag: 'txtag',
  now: () => 1_700_000_000_000,
  requestId: () => 'req-1',
};

export interface RequestEdits {
  /** Header names to leave out (any case). */
  readonly drop?: string[];
  /** Whole header lines to add after the others. */
  readonly extra?: string[];
  readonly body?: string;
}

/** Parses `<method> <requestUri> SIP/2.0` with the headers (minus drop, plus extra), Content-Length and the body. */
export function sipRequest(method: string, requestUri: string, headers: Array<[string, string]>, o: RequestEdits = {}): SipMessage {
  const drop = new Set((o.drop ?? []).map((d) => d.toLowerCase()));
  const lines = headers.filter(([n]) => !drop.has(n.toLowerCase())).map(([n, v]) => `${n}: ${v}`);
  lines.push(...(o.extra ?? []));
  const body = o.body ?? '';
  return parseSipMessage(Buffer.from(`${method} ${requestUri} SIP/2.0\r\n${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
}
