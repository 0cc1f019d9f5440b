// SIP/SIPS (RFC 3261 §19.1) and tel (RFC 3966) URI parser. Lenient and
// non-throwing: presence only needs user, host and a few params, and a strange
// URI must not cost us the whole message, so garbage yields undefined.

export interface SipUri {
  /** Lower-cased scheme: 'sip' | 'sips' | 'tel' | other absolute-URI schemes. */
  readonly scheme: string;
  /** User part (sip) or subscriber number (tel), %-escapes decoded. */
  readonly user?: string;
  readonly password?: string;
  /** Host as written (IPv6 without brackets); '' for tel and opaque URIs. */
  readonly host: string;
  readonly port?: number;
  /** uri-parameters (sip) or par (tel); names lower-cased, valueless → null. */
  readonly params: Readonly<Record<string, string | null>>;
  /** Header components after '?' (sip only). */
  readonly headers: Readonly<Record<string, string>>;
  readonly raw: string;
}

function unescape(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a lone '%' is malformed but not worth losing the URI for
  }
}

function parseParams(s: string, into: Record<string, string | null>): void {
  if (s.length === 0) return;
  for (const part of s.split(';')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    if (eq < 0) into[unescape(part).toLowerCase()] = null;
    else into[unescape(part.slice(0, eq)).toLowerCase()] = unescape(part.slice(eq + 1));
  }
}

export function parseUri(input: string): SipUri | undefined {
  const raw = input.trim();
  const colon = raw.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = raw.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return undefined;
  const rest = raw.slice(colon + 1);
  const params: Record<string, string | null> = {};
  const headers: Record<string, string> = {};

  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number.length === 0) return undefined;
    if (semi >= 0) parseParams(rest.slice(semi + 1), params);
    return { scheme, user: unescape(number), host: '', params, headers, raw };
  }
  if (scheme !== 'sip' && scheme !== 'sips') {
    return { scheme, host: '', params, headers, raw };
  }

  const q = rest.indexOf('?');
  const beforeHeaders = q < 0 ? rest : rest.slice(0, q);
  if (q >= 0) {
    for (const h of rest.slice(q + 1).split('&')) {
      const eq = h.indexOf('=');
      if (eq > 0) headers[unescape(h.slice(0, eq))] = unescape(h.slice(eq + 1));
    }
  }
  // The user part may legally contain ';' (RFC 4475 §3.1.1.9), so find '@' first.
  const at = beforeHeaders.lastIndexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = beforeHeaders;
  if (at >= 0) {
    const userinfo = beforeHeaders.slice(0, at);
    hostPart = beforeHeaders.slice(at + 1);
    const pc = userinfo.indexOf(':');
    if (pc >= 0) {
      user = unescape(userinfo.slice(0, pc));
      password = unescape(userinfo.slice(pc + 1));
    } else user = unescape(userinfo);
  }
  const semi = hostPart.indexOf(';');
  const hostport = semi < 0 ? hostPart : hostPart.slice(0, semi);
  if (semi >= 0) parseParams(hostPart.slice(semi + 1), params);

  let host: string;
  let portStr: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after.startsWith(':')) portStr = after.slice(1);
    else if (after.length > 0) return undefined;
  } else {
    const pc = hostport.indexOf(':');
    host = pc < 0 ? hostport : hostport.slice(0, pc);
    if (pc >= 0) portStr = hostport.slice(pc + 1);
  }
  if (host.length === 0) return undefined;
  let port: number | undefined;
  if (portStr !== undefined) {
    if (!/^\d{1,5}$/.test(portStr)) return undefined;
    port = Number(portStr);
    if (port > 65535) return undefined;
  }
  const uri: { -readonly [K in keyof SipUri]: SipUri[K] } = { scheme, host, params, headers, raw };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}
