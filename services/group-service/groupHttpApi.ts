// The group service's HTTP API (the Pm management interface, JSON):
//   GET    /groups[?limit=N&after=ID]          list
//   POST   /groups                             create (201 + Location; 409 when the id or uri is taken)
//   GET    /groups/{id}                        read (ETag: "<version>")
//   PATCH  /groups/{id}                        name, attributes (merge; null removes), adminPolicy
//   DELETE /groups/{id}
//   GET    /groups/{id}/members/{member}       one member
//   PUT    /groups/{id}/members/{member}       add (201) or update (200) a member
//   DELETE /groups/{id}/members/{member}
//   GET    /healthz                            database and outbox backlog
//   GET    /openapi.json                       this list as OpenAPI 3.1 (openapi.ts), no token
// {member} is the member's sip:/tel: URI or subscriber key, URL-encoded.
// Changes accept If-Match: "<version>" (412 when the group moved on).
// Errors are JSON {error, field?}: 400 bad input (naming the field), 404,
// 405 + Allow, 409, 412, 413 body (or the resulting group record) too large, 415 not JSON, 503 database down,
// 500 with an error id (the detail goes to the log, never to the client).
// With bearer tokens configured (issue 13.4), everything but /healthz needs a
// token: groups:read for GET, groups:manage for every change (401 / 403).
import http from 'node:http';
import { AccessRefused, type BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { internalErrorBody } from '../../protocols/http/internalError.ts';
import { createApiServer, listen, type HttpLimits } from '../../protocols/http/serverLimits.ts';
import { randomUUID } from 'node:crypto';
import type { Group } from '../../schemas/generated/records.ts';
import { GroupConflictError, GroupNotFoundError, type GroupStore, GroupTooLargeError, VersionMismatchError } from './groupStore.ts';
import { checkGroupId, checkMemberIdentity, parseGroupPatch, parseIfMatch, parseMemberSettings, parseNewGroup, ValidationError } from './groupValidation.ts';
import type { MemberResolver } from './memberResolver.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import { serveOpenApi } from '../../protocols/http/openApi.ts';
import { HttpError, isDatabaseDown, methodNotAllowed, readJson, segment } from '../../protocols/http/jsonRequest.ts';
import { groupServiceOpenApi } from './openapi.ts';

interface GroupHttpApiOptions {
  store: GroupStore;
  resolveMember: MemberResolver;
  /** Called after each committed change (wakes the outbox relay). */
  onChange?: () => void;
  /** Extra fields for /healthz (e.g. the relay's stats). */
  health?: () => Record<string, unknown>;
  maxBodyBytes?: number;
  /** Bearer tokens (protocols/http/bearerTokens.ts); absent: open (local use only). */
  tokens?: BearerTokens;
  /** Header size, timeouts, HTTPS (protocols/http/serverLimits.ts). */
  limits?: HttpLimits;
  log?: (line: string) => void;
  /** Counts answers by route and code for the admin port. */
  stats?: HttpStats;
}

/** The route of a path, for metrics: group ids and member URIs stay out of the labels. */
export function groupRoute(method: string, path: string): string {
  const p = path.replace(/\/+$/, '') || '/';
  const shape =
    p === '/healthz'
      ? 'healthz'
      : p === '/groups'
        ? 'groups'
        : /^\/groups\/[^/]+$/.test(p)
          ? 'group'
          : /^\/groups\/[^/]+\/members\/[^/]+$/.test(p)
            ? 'member'
            : 'other';
  return shape === 'other' ? 'other' : `${method} ${shape}`;
}

const DEFAULT_MAX_BODY = 256 * 1024;
const LIST_LIMIT = 1000;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

const etag = (g: Group | number) => `"${typeof g === 'number' ? g : g.version}"`;
const groupPath = (id: string) => `/groups/${encodeURIComponent(id)}`;

function groupRequestHandler(o: GroupHttpApiOptions): http.RequestListener {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const { store } = o;
  const changed = () => o.onChange?.();

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const ifMatch = () => {
      const header = req.headers['if-match'];
      return parseIfMatch(Array.isArray(header) ? header[0] : header);
    };

    if (serveOpenApi(req, res, path, groupServiceOpenApi)) return;
    if (path === '/healthz') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      return send(res, 200, { database: 'up', outboxBacklog: await store.outboxBacklog(), ...o.health?.() });
    }
    o.tokens?.authorize(req, method === 'GET' || method === 'HEAD' ? 'groups:read' : 'groups:manage');

    if (path === '/groups') {
      if (method === 'GET') {
        const limitRaw = url.searchParams.get('limit') ?? '100';
        if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > LIST_LIMIT) throw new ValidationError('limit', `must be 1-${LIST_LIMIT}`);
        const groups = await store.list(Number(limitRaw), url.searchParams.get('after') ?? '');
        return send(res, 200, {
          groups,
          ...(groups.length === Number(limitRaw) ? { next: `/groups?limit=${limitRaw}&after=${encodeURIComponent(groups.at(-1)!.groupId)}` } : {}),
        });
      }
      if (method === 'POST') {
        const body = await readJson(req, maxBody);
        if (body === undefined) throw new HttpError(400, 'a group is required in the body (uri, name, …)', {}, 'body');
        const g = parseNewGroup(body);
        const members = [];
        const seen = new Set<string>();
        for (const [i, m] of g.members.entries()) {
          const { identity, ...settings } = m;
          const resolved = await o.resolveMember(identity, `members[${i}].uri`);
          if (seen.has(resolved.subscriber))
            throw new ValidationError(`members[${i}].uri`, `${identity} is the same subscriber (${resolved.subscriber}) as an earlier member`);
          seen.add(resolved.subscriber);
          members.push({ ...resolved, ...settings });
        }
        const created = await store.create({ ...g, id: g.id ?? randomUUID(), members });
        changed();
        return send(res, 201, created, { location: groupPath(created.groupId), etag: etag(created) });
      }
      throw methodNotAllowed(method, ['GET', 'POST']);
    }

    const member = /^\/groups\/([^/]+)\/members\/([^/]+)$/.exec(path);
    if (member) {
      const id = checkGroupId(segment(member[1]!, 'id'));
      const identity = checkMemberIdentity(segment(member[2]!, 'member'), 'member');
      if (method === 'GET') {
        const g = await store.get(id);
        if (!g) throw new GroupNotFoundError(`group ${id}`);
        const { subscriber } = await o.resolveMember(identity, 'member');
        const m = g.members.find((x) => x.subscriber === subscriber);
        if (!m) throw new GroupNotFoundError(`member ${identity} in group ${id}`);
        return send(res, 200, m, { etag: etag(g) });
      }
      if (method === 'PUT') {
        const settings = parseMemberSettings(await readJson(req, maxBody));
        const resolved = await o.resolveMember(identity, 'member');
        const { group, created } = await store.putMember(id, { ...resolved, ...settings }, ifMatch());
        changed();
        const path = `${groupPath(id)}/members/${encodeURIComponent(resolved.uri)}`;
        return send(res, created ? 201 : 200, group, { etag: etag(group), ...(created ? { location: path } : {}) });
      }
      if (method === 'DELETE') {
        const { subscriber } = await o.resolveMember(identity, 'member');
        const group = await store.removeMember(id, subscriber, ifMatch());
        changed();
        return send(res, 200, group, { etag: etag(group) });
      }
      throw methodNotAllowed(method, ['GET', 'PUT', 'DELETE']);
    }

    const one = /^\/groups\/([^/]+)$/.exec(path);
    if (one) {
      const id = checkGroupId(segment(one[1]!, 'id'));
      if (method === 'GET') {
        const g = await store.get(id);
        if (!g) throw new GroupNotFoundError(`group ${id}`);
        return send(res, 200, g, { etag: etag(g) });
      }
      if (method === 'PATCH') {
        const body = await readJson(req, maxBody);
        if (body === undefined) throw new HttpError(400, 'a JSON merge patch is required in the body (name, attributes, adminPolicy)', {}, 'body');
        const patch = parseGroupPatch(body);
        const headerVersion = ifMatch();
        if (patch.version !== undefined && typeof headerVersion === 'number' && headerVersion !== patch.version) {
          throw new ValidationError('version', `the body says version ${patch.version} but If-Match says ${headerVersion}`);
        }
        const g = await store.patch(id, patch, patch.version ?? headerVersion);
        changed();
        return send(res, 200, g, { etag: etag(g) });
      }
      if (method === 'DELETE') {
        const version = await store.delete(id, ifMatch());
        changed();
        return send(res, 204, undefined, { etag: etag(version) });
      }
      throw methodNotAllowed(method, ['GET', 'PATCH', 'DELETE']);
    }

    throw new HttpError(404, `no such resource ${path}; try /groups, /groups/{id}, /groups/{id}/members/{member} or /healthz`);
  }

  return (req, res) => {
    o.stats?.track(res, () => groupRoute(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname));
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return send(res, err.status, { error: err.message, ...(err.field ? { field: err.field } : {}) }, err.headers);
      if (err instanceof AccessRefused) return send(res, err.status, { error: err.message }, err.headers);
      if (err instanceof ValidationError) return send(res, 400, { error: err.message, field: err.field });
      if (err instanceof GroupNotFoundError) return send(res, 404, { error: err.message });
      if (err instanceof GroupConflictError) return send(res, 409, { error: err.message, field: err.field });
      if (err instanceof GroupTooLargeError) return send(res, 413, { error: err.message });
      if (err instanceof VersionMismatchError) return send(res, 412, { error: err.message, version: err.current }, { etag: etag(err.current) });
      if (isDatabaseDown(err)) {
        o.log?.(`${req.method} ${req.url}: database unavailable: ${(err as Error).message}`);
        return send(res, 503, { error: 'database unavailable' }, { 'retry-after': '5' });
      }
      return send(res, 500, internalErrorBody(err, `${req.method} ${req.url}`, o.log));
    });
  };
}

export function startGroupHttpApi(o: GroupHttpApiOptions, port: number, host = '127.0.0.1'): Promise<http.Server> {
  return listen(createApiServer(groupRequestHandler(o), o.limits), port, host);
}
