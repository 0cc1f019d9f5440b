// Bearer tokens (RFC 6750) for our HTTP APIs, with per-client scopes. The
// operator keeps a tokens file whose lines name a client, the SHA-256 of its
// token, its scopes and, for clients that act as one user, that user's URI:
//   <client> sha256:<hex> <scope>[,<scope>…] [<identity URI>]
// Only hashes are stored, so the file (and a leak of it) never holds a usable
// token; `presence tokens create` prints a new token once and appends its line.
// Tokens are compared by hash in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';

/** What a token grants. */
export interface HttpClient {
  readonly name: string;
  readonly scopes: ReadonlySet<string>;
  /** The user this client acts as (e.g. a watcher's URI); absent for service clients. */
  readonly identity?: string;
}

interface TokenLine extends HttpClient {
  readonly hash: Buffer;
}

/** A request the API will not serve: 401 (no or unknown token) or 403 (a scope it lacks). */
export class AccessRefused extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
    readonly headers: Record<string, string>,
  ) {
    super(message);
  }
}

const LINE = /^(\S+)\s+sha256:([0-9a-f]{64})\s+(\S+)(?:\s+(\S+))?\s*$/;

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** A new random token (256 bits, base64url) and the line that grants it. */
export function newToken(client: string, scopes: readonly string[], identity?: string): { token: string; line: string } {
  if (!/^\S+$/.test(client)) throw new Error(`client name ${JSON.stringify(client)} must be one word`);
  if (scopes.length === 0 || scopes.some((s) => !/^[a-z][a-z:_-]*$/.test(s))) throw new Error(`scopes must be words like groups:read, not ${scopes.join(',')}`);
  if (identity !== undefined && !/^(sips?|tel):\S+$/.test(identity)) throw new Error(`identity ${identity} is not a sip:, sips: or tel: URI`);
  const token = randomBytes(32).toString('base64url');
  return { token, line: `${client} sha256:${hashToken(token).toString('hex')} ${scopes.join(',')}${identity ? ` ${identity}` : ''}` };
}

export class BearerTokens {
  private constructor(private readonly lines: readonly TokenLine[]) {}

  /** Parses a tokens file's text; a malformed line is an error naming its number (a typo must not open or close an API silently). */
  static parse(text: string): BearerTokens {
    const lines: TokenLine[] = [];
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const m = LINE.exec(line);
      if (!m) throw new Error(`tokens file line ${i + 1}: expected "<client> sha256:<64 hex> <scopes> [<identity URI>]"`);
      lines.push({ name: m[1]!, hash: Buffer.from(m[2]!, 'hex'), scopes: new Set(m[3]!.split(',')), ...(m[4] ? { identity: m[4] } : {}) });
    }
    return new BearerTokens(lines);
  }

  static load(file: string): BearerTokens {
    return BearerTokens.parse(readFileSync(file, 'utf8'));
  }

  get size(): number {
    return this.lines.length;
  }

  /** The client of the request's bearer token, holding `scope`; throws AccessRefused otherwise. */
  authorize(req: http.IncomingMessage, scope: string): HttpClient {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
    if (!m) throw new AccessRefused(401, 'a bearer token is required (Authorization: Bearer <token>)', { 'www-authenticate': 'Bearer realm="presence"' });
    const hash = hashToken(m[1]!);
    const client = this.lines.find((l) => timingSafeEqual(l.hash, hash));
    if (!client) throw new AccessRefused(401, 'the bearer token is not valid', { 'www-authenticate': 'Bearer realm="presence", error="invalid_token"' });
    if (!client.scopes.has(scope))
      throw new AccessRefused(403, `client ${client.name} lacks the scope ${scope}`, {
        'www-authenticate': `Bearer realm="presence", error="insufficient_scope", scope="${scope}"`,
      });
    return { name: client.name, scopes: client.scopes, ...(client.identity ? { identity: client.identity } : {}) };
  }
}
