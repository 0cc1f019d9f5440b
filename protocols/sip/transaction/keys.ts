// Transaction matching keys. Client side (§17.1.3): the response's top Via
// branch plus its CSeq method. Server side (§17.2.3): branch, sent-by and
// method (ACK would match INVITE; this layer has no INVITE transactions); for
// RFC 2543 peers without the magic cookie, the older identity of §17.2.3.
import type { SipMessage } from '../../decode/sip/index.ts';
import { BRANCH_MAGIC_COOKIE } from '../message/index.ts';

export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

export function clientKeyOfResponse(response: SipMessage): string | undefined {
  const branch = response.topVia?.branch;
  return branch ? clientKey(branch, response.cseq.method) : undefined;
}

export function serverKey(request: SipMessage): string | undefined {
  const via = request.topVia;
  if (!via) return undefined;
  if (via.branch?.startsWith(BRANCH_MAGIC_COOKIE)) {
    return `${via.branch}|${via.host.toLowerCase()}:${via.port ?? ''}|${request.method}`;
  }
  const v = request.headers.list('via')[0] ?? '';
  return ['2543', request.requestUri, request.to?.tag ?? '', request.from?.tag ?? '', request.callId, `${request.cseq.seq} ${request.method}`, v].join('|');
}
