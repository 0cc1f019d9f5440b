// One SIP message (RFC 3261 §7) from a datagram or a framed stream chunk.
// Eager work is what every consumer needs and what decides validity: start
// line, header split (folding, compact forms), Call-ID, CSeq, From/To present,
// Content-Length and body bounds. Everything else is parsed on first access
// and cached, so a tap that only wants Call-ID + CSeq pays for nothing more.
import { DecodeError } from '../layer.ts';
import { canonicalHeaderName } from './compactHeaders.ts';
import { firstControlCharacter } from './controlCharacters.ts';
import { parseUint, trimLws } from './fieldValues.ts';
import { SipHeaders } from './headers.ts';
import { parseNameAddr, type NameAddr } from './nameAddr.ts';
import {
  parseContacts,
  parseContentType,
  parseCSeq,
  parseEvent,
  parseRetryAfter,
  parseSubscriptionState,
  parseTokenList,
  parseVia,
  type ContentType,
  type CSeq,
  type SipContact,
  type SipEvent,
  type SubscriptionState,
  type Via,
} from './structuredHeaders.ts';
import { parseUri, type SipUri } from './uri.ts';

const LAYER = 'sip';
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
/** Guards against pathological input: a SIP header block this large is not SIP. */
const MAX_HEADER_BYTES = 64 * 1024;

function fail(reason: 'truncated' | 'malformed' | 'unsupported', msg: string): never {
  throw new DecodeError(LAYER, reason, msg);
}

function isTokenChar(c: number): boolean {
  // RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x21 ||
    c === 0x25 ||
    c === 0x2a ||
    c === 0x5f ||
    c === 0x2b ||
    c === 0x60 ||
    c === 0x27 ||
    c === 0x7e
  );
}

/** Where the header block ends and the body starts, or undefined if absent. */
export function findHeaderEnd(buf: Buffer, from = 0): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf(CRLFCRLF, from);
  // Bare-LF line endings are not RFC 3261 but some stacks emit them; accept them
  // only when no CRLFCRLF precedes (so a body containing \n\n is not mistaken).
  const lf = buf.indexOf(LFLF, from);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

type SipMessageKind = 'request' | 'response';

const UNSET: unique symbol = Symbol('unset');
type Lazy<T> = T | typeof UNSET;

export class SipMessage {
  readonly kind: SipMessageKind;
  /** Request method as sent (case-sensitive, RFC 3261 §7.1); for responses, CSeq's method. */
  readonly method: string;
  readonly requestUri: string | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly headers: SipHeaders;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly contentLength: number | undefined;
  readonly body: Buffer;
  /** Bytes this message occupied in the input (start line to end of body). */
  readonly byteLength: number;

  // Lazily parsed fields; every instance has the same shape (fast property access).
  private _ruri: Lazy<SipUri | undefined> = UNSET;
  private _from: Lazy<NameAddr | undefined> = UNSET;
  private _to: Lazy<NameAddr | undefined> = UNSET;
  private _vias: Lazy<Via[]> = UNSET;
  private _contacts: Lazy<{ wildcard: boolean; contacts: SipContact[] }> = UNSET;
  private _event: Lazy<SipEvent | undefined> = UNSET;
  private _subState: Lazy<SubscriptionState | undefined> = UNSET;
  private _ctype: Lazy<ContentType | undefined> = UNSET;

  constructor(
    kind: SipMessageKind,
    method: string,
    requestUri: string | undefined,
    status: number | undefined,
    reason: string | undefined,
    headers: SipHeaders,
    callId: string,
    cseq: CSeq,
    contentLength: number | undefined,
    body: Buffer,
    byteLength: number,
  ) {
    this.kind = kind;
    this.method = method;
    this.requestUri = requestUri;
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.callId = callId;
    this.cseq = cseq;
    this.contentLength = contentLength;
    this.body = body;
    this.byteLength = byteLength;
  }

  get isRequest(): boolean {
    return this.kind === 'request';
  }

  get parsedRequestUri(): SipUri | undefined {
    if (this._ruri === UNSET) this._ruri = this.requestUri === undefined ? undefined : parseUri(this.requestUri);
    return this._ruri;
  }

  /** From; presence is checked at parse time, the value may still be unparsable. */
  get from(): NameAddr | undefined {
    if (this._from === UNSET) this._from = parseNameAddr(this.headers.get('from') ?? '');
    return this._from;
  }

  get to(): NameAddr | undefined {
    if (this._to === UNSET) this._to = parseNameAddr(this.headers.get('to') ?? '');
    return this._to;
  }

  /** All Via entries, top first. */
  get vias(): Via[] {
    if (this._vias === UNSET)
      this._vias = this.headers
        .list('via')
        .map(parseVia)
        .filter((v): v is Via => v !== undefined);
    return this._vias;
  }

  get topVia(): Via | undefined {
    return this.vias[0];
  }

  get contacts(): SipContact[] {
    return this.contactList().contacts;
  }

  /** Contact: * (REGISTER remove all bindings, RFC 3261 §10.2.2). */
  get contactWildcard(): boolean {
    return this.contactList().wildcard;
  }

  get expires(): number | undefined {
    return parseUint(this.headers.get('expires'));
  }

  get minExpires(): number | undefined {
    return parseUint(this.headers.get('min-expires'));
  }

  get retryAfter(): number | undefined {
    const v = this.headers.get('retry-after');
    return v === undefined ? undefined : parseRetryAfter(v);
  }

  get event(): SipEvent | undefined {
    if (this._event === UNSET) {
      const v = this.headers.get('event');
      this._event = v === undefined ? undefined : parseEvent(v);
    }
    return this._event;
  }

  get subscriptionState(): SubscriptionState | undefined {
    if (this._subState === UNSET) {
      const v = this.headers.get('subscription-state');
      this._subState = v === undefined ? undefined : parseSubscriptionState(v);
    }
    return this._subState;
  }

  get sipETag(): string | undefined {
    return this.headers.get('sip-etag')?.trim() || undefined;
  }

  get sipIfMatch(): string | undefined {
    return this.headers.get('sip-if-match')?.trim() || undefined;
  }

  get contentType(): ContentType | undefined {
    if (this._ctype === UNSET) {
      const v = this.headers.get('content-type');
      this._ctype = v === undefined ? undefined : parseContentType(v);
    }
    return this._ctype;
  }

  get allowEvents(): string[] {
    return parseTokenList(this.headers.getAll('allow-events'));
  }

  get supported(): string[] {
    return parseTokenList(this.headers.getAll('supported'));
  }

  /** Plain summary for logs and dead-letter records (getters do not serialise). */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      method: this.method,
      requestUri: this.requestUri,
      status: this.status,
      reason: this.reason,
      callId: this.callId,
      cseq: this.cseq,
      from: this.from,
      to: this.to,
      headers: this.headers.entries(),
      bodyLength: this.body.length,
    };
  }

  private contactList(): { wildcard: boolean; contacts: SipContact[] } {
    if (this._contacts === UNSET) this._contacts = parseContacts(this.headers.getAll('contact'));
    return this._contacts;
  }

  get require(): string[] {
    return parseTokenList(this.headers.getAll('require'));
  }
}

interface StartLine {
  kind: SipMessageKind;
  method: string;
  requestUri?: string;
  status?: number;
  reason?: string;
}

function parseStartLine(line: string): StartLine {
  if (line.length >= 8 && line.charCodeAt(0) === 0x53 /* S */ && /^SIP\/\d+\.\d+ /i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (reason may be empty)
    const version = line.slice(0, line.indexOf(' '));
    if (version.toUpperCase() !== 'SIP/2.0') fail('unsupported', `version ${version}`);
    const m = /^SIP\/2\.0 (\d{3})(?: (.*))?$/i.exec(line);
    if (!m) fail('malformed', 'bad status line');
    const status = Number(m[1]);
    if (status < 100 || status > 699) fail('malformed', `status ${status}`);
    return { kind: 'response', method: '', status, reason: (m[2] ?? '').trim() };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (exactly two single SPs)
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) fail('malformed', 'no request line');
  for (let i = 0; i < sp1; i++) if (!isTokenChar(line.charCodeAt(i))) fail('malformed', 'bad method token');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0) fail('malformed', 'request line without version');
  const requestUri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (requestUri.length === 0 || version.indexOf(' ') >= 0) fail('malformed', 'bad request line spacing');
  if (!/^SIP\/\d+\.\d+$/i.test(version)) fail('malformed', `bad version ${version}`);
  if (version.toUpperCase() !== 'SIP/2.0') fail('unsupported', `version ${version}`);
  if (requestUri.indexOf(':') <= 0) fail('malformed', 'Request-URI is not an absolute URI');
  return { kind: 'request', method: line.slice(0, sp1), requestUri };
}

/**
 * Parses one SIP message occupying `buf` from its start (a UDP/SCTP datagram,
 * a WebSocket message, a HEP payload or one framed stream message). Bytes
 * after Content-Length are ignored (see `byteLength`).
 */
export function parseSipMessage(buf: Buffer): SipMessage {
  // Leading CRLFs are keep-alives / inter-message noise (RFC 3261 §7.5).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start >= buf.length) fail('truncated', 'empty message');
  const end = findHeaderEnd(buf, start);
  if (!end) fail('truncated', 'no empty line after headers');
  if (end.headerEnd - start > MAX_HEADER_BYTES) fail('malformed', 'header block too large');
  const text = buf.toString('utf8', start, end.headerEnd);
  // A bare NUL or other control character: refused here, before it reaches keys and queries.
  const control = firstControlCharacter(text);
  if (control >= 0) {
    const line = text.slice(0, control).split('\n').length;
    fail('malformed', `control character 0x${text.charCodeAt(control).toString(16).padStart(2, '0')} in line ${line}`);
  }

  let nl = text.indexOf('\n');
  if (nl < 0) nl = text.length;
  const startLine = text.charCodeAt(nl - 1) === 0x0d ? text.slice(0, nl - 1) : text.slice(0, nl);
  const first = parseStartLine(startLine);

  const names: string[] = [];
  const values: string[] = [];
  let iCallId = -1;
  let iCSeq = -1;
  let iCl = -1;
  let hasFrom = false;
  let hasTo = false;
  let pos = nl + 1;
  const n = text.length;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const lineEnd = text.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    const c0 = text.charCodeAt(pos);
    if (c0 === 0x20 || c0 === 0x09) {
      // folded continuation (RFC 3261 §7.3.1): joins the previous header with one SP
      if (values.length === 0) fail('malformed', 'continuation line before any header');
      const cont = trimLws(text.slice(pos, lineEnd));
      if (cont.length) values[values.length - 1] = trimLws(`${values[values.length - 1]} ${cont}`);
    } else if (lineEnd > pos) {
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon >= lineEnd) fail('malformed', `header line without colon at ${pos}`);
      let ne = colon;
      while (ne > pos && (text.charCodeAt(ne - 1) === 0x20 || text.charCodeAt(ne - 1) === 0x09)) ne--;
      if (ne === pos) fail('malformed', 'empty header name');
      for (let i = pos; i < ne; i++) if (!isTokenChar(text.charCodeAt(i))) fail('malformed', 'bad header name');
      const name = canonicalHeaderName(text.slice(pos, ne));
      if (name === 'call-id') {
        if (iCallId < 0) iCallId = names.length;
      } else if (name === 'cseq') {
        if (iCSeq < 0) iCSeq = names.length;
      } else if (name === 'content-length') {
        if (iCl < 0) iCl = names.length;
      } else if (name === 'from') hasFrom = true;
      else if (name === 'to') hasTo = true;
      names.push(name);
      values.push(trimLws(text.slice(colon + 1, lineEnd)));
    }
    pos = eol + 1;
  }
  const headers = new SipHeaders(names, values);

  const callId = iCallId < 0 ? '' : values[iCallId]!;
  if (!callId) fail('malformed', 'missing Call-ID');
  if (iCSeq < 0) fail('malformed', 'missing CSeq');
  const cseqRaw = values[iCSeq]!;
  const cseq = parseCSeq(cseqRaw);
  if (!cseq) fail('malformed', `bad CSeq "${cseqRaw.slice(0, 40)}"`);
  if (!hasFrom || !hasTo) fail('malformed', 'missing From or To');
  if (first.kind === 'request' && cseq.method !== first.method) fail('malformed', 'CSeq method differs from request method');

  const clRaw = iCl < 0 ? undefined : values[iCl];
  let contentLength: number | undefined;
  if (clRaw !== undefined) {
    contentLength = parseUint(clRaw);
    if (contentLength === undefined) fail('malformed', `bad Content-Length "${clRaw.slice(0, 20)}"`);
    // Two lengths that disagree: whichever we chose, a peer choosing the other reads another message.
    for (let i = iCl + 1; i < names.length; i++) {
      if (names[i] === 'content-length' && parseUint(values[i]!) !== contentLength) fail('malformed', 'conflicting Content-Length headers');
    }
  }
  let body: Buffer;
  if (contentLength !== undefined) {
    if (end.bodyStart + contentLength > buf.length) {
      fail('truncated', `body: Content-Length ${contentLength}, have ${buf.length - end.bodyStart}`);
    }
    body = buf.subarray(end.bodyStart, end.bodyStart + contentLength);
  } else {
    body = buf.subarray(end.bodyStart);
  }

  return new SipMessage(
    first.kind,
    first.kind === 'request' ? first.method : cseq.method,
    first.requestUri,
    first.status,
    first.reason,
    headers,
    callId,
    cseq,
    contentLength,
    body,
    end.bodyStart + body.length,
  );
}
