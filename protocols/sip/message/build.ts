// Request and response builders (RFC 3261 §8.1.1 and §8.2.6). They produce an
// OutgoingMessage; serialize() turns it into bytes. Header names are written
// in their canonical long form (compact forms save bytes only on UDP near the
// MTU, which presence messages with PIDF bodies do not approach anyway).
import { canonicalReason, parseNameAddr, type SipMessage } from '../../decode/sip/index.ts';
import { newTag } from './ids.ts';
import type { OutgoingRequest, OutgoingResponse, SipHeaderLine } from './outgoing.ts';

/** §8.1.1.6: the recommended initial Max-Forwards. */
export const DEFAULT_MAX_FORWARDS = 70;

export interface ViaSpec {
  readonly transport: 'udp' | 'tcp' | 'UDP' | 'TCP' | string;
  readonly host: string;
  readonly port: number;
  readonly branch: string;
  /** RFC 3581: ask the server to answer to the source port (NAT). Default true. */
  readonly rport?: boolean;
}

export interface RequestSpec {
  readonly method: string;
  readonly requestUri: string;
  readonly from: { readonly uri: string; readonly tag: string; readonly displayName?: string };
  readonly to: { readonly uri: string; readonly tag?: string; readonly displayName?: string };
  readonly callId: string;
  readonly cseq: number;
  /** Contact URI (wrapped in <>) or a complete name-addr with params when it contains '<'. */
  readonly contact?: string;
  /** Route set, top first (§12.2.1.1): one Route line per entry. */
  readonly routeSet?: readonly string[];
  readonly maxForwards?: number;
  readonly headers?: readonly SipHeaderLine[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
}

export interface ResponseSpec {
  readonly reason?: string;
  /** To-tag to add when the request's To has none (§8.2.6.2); random when omitted. */
  readonly toTag?: string;
  readonly headers?: readonly SipHeaderLine[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
}

/** The request headers a response copies (§8.2.6.2), as they appeared on the wire. */
export interface ResponseIdentity {
  readonly vias: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: string;
  readonly timestamp?: string;
}

function quoteDisplayName(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function nameAddr(uri: string, displayName?: string, tag?: string): string {
  const base = displayName !== undefined ? `${quoteDisplayName(displayName)} <${uri}>` : `<${uri}>`;
  return tag ? `${base};tag=${tag}` : base;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function viaValue(via: ViaSpec): string {
  const rport = via.rport === false ? '' : ';rport';
  return `SIP/2.0/${via.transport.toUpperCase()} ${hostPort(via.host, via.port)};branch=${via.branch}${rport}`;
}

function bodyBuffer(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export function buildRequest(spec: RequestSpec, via: ViaSpec): OutgoingRequest {
  const h: SipHeaderLine[] = [
    ['Via', viaValue(via)],
    ['Max-Forwards', String(spec.maxForwards ?? DEFAULT_MAX_FORWARDS)],
  ];
  for (const route of spec.routeSet ?? []) h.push(['Route', route.startsWith('<') ? route : `<${route}>`]);
  h.push(['From', nameAddr(spec.from.uri, spec.from.displayName, spec.from.tag)]);
  h.push(['To', nameAddr(spec.to.uri, spec.to.displayName, spec.to.tag)]);
  h.push(['Call-ID', spec.callId]);
  h.push(['CSeq', `${spec.cseq} ${spec.method}`]);
  if (spec.contact !== undefined) h.push(['Contact', spec.contact.includes('<') ? spec.contact : `<${spec.contact}>`]);
  if (spec.headers) h.push(...spec.headers);
  const body = bodyBuffer(spec.body);
  if (spec.contentType !== undefined) h.push(['Content-Type', spec.contentType]);
  return { kind: 'request', method: spec.method, requestUri: spec.requestUri, headers: h, body };
}

/** A response from the copied header values; also used when the request did not fully parse. */
export function buildResponseFrom(id: ResponseIdentity, status: number, spec: ResponseSpec = {}): OutgoingResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`SIP status ${status}`);
  const h: SipHeaderLine[] = id.vias.map((v): SipHeaderLine => ['Via', v]);
  h.push(['From', id.from]);
  // §8.2.6.2: the UAS adds a To-tag unless one is there; a 100 needs none (§8.2.6.1).
  const hasTag = parseNameAddr(id.to)?.tag !== undefined;
  h.push(['To', hasTag || status === 100 ? id.to : `${id.to};tag=${spec.toTag ?? newTag()}`]);
  h.push(['Call-ID', id.callId]);
  h.push(['CSeq', id.cseq]);
  if (status === 100 && id.timestamp !== undefined) h.push(['Timestamp', id.timestamp]); // §8.2.6.1
  if (spec.headers) h.push(...spec.headers);
  const body = bodyBuffer(spec.body);
  if (spec.contentType !== undefined) h.push(['Content-Type', spec.contentType]);
  const reason = spec.reason ?? canonicalReason(status) ?? 'Unknown';
  return { kind: 'response', status, reason, headers: h, body };
}

function responseIdentity(request: SipMessage): ResponseIdentity {
  const timestamp = request.headers.get('timestamp');
  return {
    vias: request.headers.getAll('via'),
    from: request.headers.get('from') ?? '',
    to: request.headers.get('to') ?? '',
    callId: request.callId,
    cseq: request.headers.get('cseq') ?? `${request.cseq.seq} ${request.cseq.method}`,
    ...(timestamp !== undefined ? { timestamp } : {}),
  };
}

/** §8.2.6: Via (all, in order), From, To (+tag), Call-ID and CSeq copied from the request. */
export function buildResponse(request: SipMessage, status: number, spec: ResponseSpec = {}): OutgoingResponse {
  if (!request.isRequest) throw new TypeError('buildResponse needs a request');
  return buildResponseFrom(responseIdentity(request), status, spec);
}
