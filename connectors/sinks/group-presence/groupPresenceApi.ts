// HTTP view of the group_presence table:
//   GET /groups/{id}/presence?watcher=<uri>   (or header X-Presence-Watcher: <uri>)
// returns the group's current presence document as that requester may see it:
// 200 JSON (members with their RLMI instance state and PIDF), or with
// `Accept: multipart/related` the RFC 4662 body itself (RLMI first) — both
// with ETag "<version>" (JSON) or "<version>-rlmi" (multipart). 400 for a malformed id or requester URI (or none),
// 404 for an unknown group, 403 for an outsider of a members-only group, 405
// for other methods, 503 when the database does not answer. GET /healthz.
// GET /openapi.json: this API as OpenAPI 3.1 (openapi.ts), with no token.
// With bearer tokens configured (issue 13.4) every request but /healthz needs a
// token with presence:read; the requester is then the token's identity, and
// only a service client (presence:any, no identity) may name whom it asks for.
import http from 'node:http';
import { AccessRefused, type BearerTokens } from '../../../protocols/http/bearerTokens.ts';
import { internalErrorBody } from '../../../protocols/http/internalError.ts';
import { createApiServer, listen, type HttpLimits } from '../../../protocols/http/serverLimits.ts';
import type { HttpStats } from '../../../protocols/http/httpStats.ts';
import { parseUri } from '../../../protocols/decode/sip/index.ts';
import type { KeyResolver } from '../../../front-end/handlerContext.ts';
import type { NumberingPlan } from '../../../subscriber/identity/msisdn.ts';
import type { GroupPresenceTable } from './groupPresenceTable.ts';
import { requesterView } from './requesterView.ts';
import { sendJson } from '../../../protocols/http/jsonResponse.ts';
import { serveOpenApi } from '../../../protocols/http/openApi.ts';
import { groupPresenceOpenApi } from './openapi.ts';

const WATCHER_HEADER = 'x-presence-watcher';
/** The group service's id syntax. */
const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const PATH = /^\/groups\/([^/]+)\/presence\/?$/;

interface GroupPresenceApiOptions {
  readonly table: GroupPresenceTable;
  readonly plan: NumberingPlan;
  /** Maps a requester URI to its subscriber key (e.g. the subscriber directory), for members known by another identity. */
  readonly resolveKey?: KeyResolver;
  /** Bearer tokens (protocols/http/bearerTokens.ts); absent: open, the requester as named (local use only). */
  readonly tokens?: BearerTokens;
  /** Header size, timeouts, HTTPS (protocols/http/serverLimits.ts). */
  readonly limits?: HttpLimits;
  readonly log?: (line: string) => void;
  /** Answers counted by route (presence, healthz, other) and code for the admin port. */
  readonly stats?: HttpStats;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The requester: the token's identity when it has one (a different one named is 403), else the one named in the query or header. */
function requesterOf(req: http.IncomingMessage, url: URL, tokens: BearerTokens | undefined): string {
  const client = tokens?.authorize(req, 'presence:read');
  const named = namedRequester(req, url, client?.identity === undefined);
  if (!client) return named!;
  if (client.identity !== undefined) {
    if (named !== undefined && named !== client.identity) throw new HttpError(403, `client ${client.name} asks as ${client.identity}, not as ${named}`);
    return client.identity;
  }
  if (!client.scopes.has('presence:any')) throw new HttpError(403, `client ${client.name} acts for no user and lacks presence:any`);
  return named!;
}

/** A requester URI we can compare with members: sip:, sips: or tel:. */
function namedRequester(req: http.IncomingMessage, url: URL, required: boolean): string | undefined {
  const q = url.searchParams.getAll('watcher');
  const h = req.headers[WATCHER_HEADER];
  const given = [...q, ...(Array.isArray(h) ? h : h ? [h] : [])].map((v) => v.trim()).filter(Boolean);
  if (given.length === 0 && !required) return undefined;
  if (given.length === 0) throw new HttpError(400, `name the requester: ?watcher=<sip:|tel: URI> or header X-Presence-Watcher`);
  if (new Set(given).size > 1) throw new HttpError(400, `more than one requester given: ${given.join(', ')}`);
  const uri = given[0]!.replace(/^<|>$/g, '');
  const u = parseUri(uri);
  if (!u || !['sip', 'sips', 'tel'].includes(u.scheme) || (u.scheme !== 'tel' && !u.user))
    throw new HttpError(400, `requester ${uri} is not a sip:, sips: or tel: URI of a user`);
  return uri;
}

const VARY_WATCHER = 'X-Presence-Watcher';

/** If-None-Match (RFC 9110 §13.1.2): "*", or a list of entity tags compared weakly. */
function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function wantsMultipart(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((r) => r.trim().toLowerCase().startsWith('multipart/related'));
}

function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P0[1-3]|08\d\d\d)$/.test(e.code ?? '') ||
    /Connection terminated|connect ECONNREFUSED|too many clients/i.test(e.message ?? '')
  );
}

function groupPresenceHandler(o: GroupPresenceApiOptions): http.RequestListener {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    o.stats?.track(res, () => (url.pathname === '/healthz' ? 'healthz' : PATH.test(url.pathname) ? 'presence' : 'other'));
    try {
      if (serveOpenApi(req, res, url.pathname, groupPresenceOpenApi)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed; use GET`, { allow: 'GET, HEAD' });
      if (url.pathname === '/healthz') {
        const groups = await o.table.count();
        return sendJson(res, 200, { database: 'up', groups });
      }
      const m = PATH.exec(url.pathname);
      if (!m) throw new HttpError(404, `no such resource ${url.pathname}; try /groups/{id}/presence?watcher=<uri> or /healthz`);
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        throw new HttpError(400, `group id ${m[1]} is not valid percent-encoding`);
      }
      if (!GROUP_ID.test(id)) throw new HttpError(400, `group id ${JSON.stringify(id)} is malformed (letters, digits, . _ -; at most 200)`);
      const watcher = requesterOf(req, url, o.tokens);
      const gp = await o.table.get(id);
      if (!gp) throw new HttpError(404, `no group presence for group ${id}`);
      const key = (await o.resolveKey?.(watcher)) ?? undefined;
      const view = requesterView(gp, watcher, o.plan, key);
      if (!view.allowed) throw new HttpError(403, `${watcher} is not a member of group ${id}, whose presence only its members may see`);
      // The answer depends on the requester (query or header) and on Accept: one validator per
      // representation, and Vary so a shared cache never hands one requester's view to another.
      const multipart = wantsMultipart(req);
      const etag = multipart ? `"${gp.version}-rlmi"` : `"${gp.version}"`;
      const vary = `Accept, ${VARY_WATCHER}`;
      if (ifNoneMatch(req.headers['if-none-match'], etag)) {
        res.writeHead(304, { etag, vary });
        return res.end();
      }
      if (multipart) {
        res.writeHead(200, { 'content-type': view.document.contentType, 'content-length': Buffer.byteLength(view.document.body), etag, vary });
        return res.end(req.method === 'HEAD' ? undefined : view.document.body);
      }
      return sendJson(
        res,
        200,
        {
          groupId: gp.groupId,
          uri: gp.uri,
          name: gp.name,
          version: gp.version,
          updatedAt: new Date(gp.updatedAt).toISOString(),
          adminPolicy: gp.adminPolicy,
          memberCount: gp.memberCount,
          requester: { uri: watcher, member: view.member !== undefined, role: view.member?.role ?? null },
          members: view.members.map((v) => ({ uri: v.uri, displayName: v.displayName, role: v.role, state: v.state, reason: v.reason, pidf: v.pidf })),
        },
        { etag, vary },
      );
    } catch (err) {
      if (err instanceof HttpError || err instanceof AccessRefused) return sendJson(res, err.status, { error: err.message }, err.headers);
      if (isDatabaseDown(err)) {
        o.log?.(`GET ${url.pathname}: database unavailable: ${(err as Error).message}`);
        return sendJson(res, 503, { error: 'database unavailable' }, { 'retry-after': '5' });
      }
      return sendJson(res, 500, internalErrorBody(err, `GET ${url.pathname}`, o.log));
    }
  };
}

export function startGroupPresenceApi(o: GroupPresenceApiOptions, port: number, host = '127.0.0.1'): Promise<http.Server> {
  return listen(createApiServer(groupPresenceHandler(o), o.limits), port, host);
}
