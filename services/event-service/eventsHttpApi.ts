// The event service's HTTP API (issue 17 parts 2–4, JSON):
//   GET    /catalogue                  the event types (events:read)
//   GET    /services                   registrations (events:register)
//   PUT    /services/{name}            register or replace a service: publishes, subscriptions, delivery (400 names the field)
//   GET    /services/{name}            one registration (never its webhook secret)
//   DELETE /services/{name}            remove it (its log rows stay)
//   POST   /events                     publish an event of a type the calling service registered (events:publish) → service-events
//   GET    /events?since=&limit=&wait= pull: the calling service's events after the cursor (events:read); reading from
//                                      `since` acknowledges everything up to it, and the server keeps that cursor;
//                                      wait=<s> (≤ 30) holds an empty answer until an event comes or the time is up
//   GET    /events/stream              server-sent events for an sse-mode service; Last-Event-ID (or ?since=) resumes
//   GET    /event-log?subscriber=|service=|type=&before=&limit=   the log, newest first, with each recipient's state
//   GET    /healthz, GET /openapi.json no token
// The calling service is its bearer token's client name; without tokens configured
// (a development stack), ?service= names it. Errors are JSON {error, field?}.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Settings } from '../../config/settings.ts';
import { keyOf, UnknownIdentityError } from '../../coordinator/locator.ts';
import { type BearerTokens } from '../../protocols/http/bearerTokens.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import { HttpError, methodNotAllowed, readJson, segment } from '../../protocols/http/jsonRequest.ts';
import { answerFailure } from '../routeFailure.ts';
import { NO_STORE, sendJson } from '../../protocols/http/jsonResponse.ts';
import { serveOpenApi } from '../../protocols/http/openApi.ts';
import { createApiServer, listen, type HttpLimits } from '../../protocols/http/serverLimits.ts';
import type { ServiceEvent } from '../../schemas/generated/records.ts';
import { checkPayload, eventType, SERVICE_EVENT_TYPES, serviceEvent, ServiceEventInvalid } from '../../schemas/serviceEventCatalogue.ts';
import type { EventStore, LoggedEvent } from './eventStore.ts';
import { eventServiceOpenApi } from './openapi.ts';
import { parseRegistration, registrationJson, RegistrationInvalid, SERVICE_NAME, type Registration } from './serviceRegistration.ts';

export interface EventsHttpApiOptions {
  store: EventStore;
  settings: Settings;
  /** Writes a published event to service-events (resolves on the broker's ack). */
  publish: (e: ServiceEvent) => Promise<void>;
  /** Resolves when new events may be logged (the SSE streams wait on it). */
  nextLogged: () => Promise<void>;
  tokens?: BearerTokens;
  limits?: HttpLimits;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  stats?: HttpStats;
  /** SSE keep-alive comment interval. */
  heartbeatMs?: number;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const PAGE_MAX = 1000;
/** Longest long poll (s): under the usual proxy read timeouts (60 s). */
export const PULL_WAIT_MAX_S = 30;
/** A long poll also rereads this often: events logged by another instance's ingest wake no one here. */
const PULL_RECHECK_MS = 1000;

export function eventsRoute(method: string, path: string): string {
  const p = path.replace(/\/+$/, '') || '/';
  if (['/healthz', '/catalogue', '/services', '/events', '/events/stream', '/event-log'].includes(p)) return `${method} ${p.slice(1)}`;
  if (/^\/services\/[^/]+$/.test(p)) return `${method} service`;
  return 'other';
}

function whole(q: URLSearchParams, name: string, dflt: number | undefined, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new HttpError(400, `${name}: must be a whole number up to ${max}`, {}, name);
  return Number(v);
}

function requestHandler(o: EventsHttpApiOptions): http.RequestListener {
  const { store } = o;
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;

  /** The calling service: the token's client, or ?service= without tokens. */
  const caller = (req: http.IncomingMessage, q: URLSearchParams, scope: string): string => {
    if (o.tokens) return o.tokens.authorize(req, scope).name;
    const name = q.get('service');
    if (!name || !SERVICE_NAME.test(name))
      throw new HttpError(400, 'service: name the calling service (?service=) when the API runs without bearer tokens', {}, 'service');
    return name;
  };

  const registered = async (name: string): Promise<Registration> => {
    const r = await store.registration(name);
    if (!r) throw new HttpError(404, `service ${name} is not registered (PUT /services/${name})`);
    return r;
  };

  const subscriberKey = async (raw: string, field: string): Promise<string> => {
    try {
      return await keyOf(o.settings, raw);
    } catch (err) {
      if (err instanceof UnknownIdentityError) throw new HttpError(400, `${field}: ${err.message}`, {}, field);
      throw err;
    }
  };

  async function stream(req: http.IncomingMessage, res: http.ServerResponse, service: string, from: number): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': event service stream\n\n');
    let closed = false;
    req.on('close', () => (closed = true));
    let position = from;
    let lastWrite = Date.now();
    const heartbeat = o.heartbeatMs ?? 15_000;
    while (!closed) {
      const waiting = o.nextLogged();
      let events: LoggedEvent[];
      try {
        events = await store.eventsAfter(service, position, 200);
      } catch (err) {
        o.log?.(`SSE ${service}: ${(err as Error).message}; the client resumes with Last-Event-ID`);
        res.end();
        return;
      }
      for (const { cursor, ...e } of events) {
        res.write(`id: ${cursor}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        position = cursor;
      }
      if (events.length > 0) {
        lastWrite = Date.now();
        await store.markStreamed(service, position).catch((err: Error) => o.log?.(`SSE ${service}: marking notified failed: ${err.message}`));
        continue;
      }
      if (Date.now() - lastWrite >= heartbeat) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await Promise.race([waiting, new Promise((r) => setTimeout(r, Math.min(1000, heartbeat)))]);
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (serveOpenApi(req, res, path, eventServiceOpenApi)) return;
    if (path === '/healthz') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      await store.ping();
      return sendJson(res, 200, { database: 'up' }, NO_STORE);
    }

    if (path === '/catalogue') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      o.tokens?.authorize(req, 'events:read');
      return sendJson(res, 200, { types: SERVICE_EVENT_TYPES });
    }

    if (path === '/services') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      o.tokens?.authorize(req, 'events:register');
      return sendJson(res, 200, { services: (await store.registrations()).map(registrationJson) }, NO_STORE);
    }

    const one = /^\/services\/([^/]+)$/.exec(path);
    if (one) {
      if (!['GET', 'PUT', 'DELETE'].includes(method)) throw methodNotAllowed(method, ['GET', 'PUT', 'DELETE']);
      o.tokens?.authorize(req, 'events:register');
      const name = segment(one[1]!, 'name');
      if (method === 'GET') return sendJson(res, 200, registrationJson(await registered(name)), NO_STORE);
      if (method === 'DELETE') {
        if (!(await store.remove(name))) throw new HttpError(404, `service ${name} is not registered`);
        res.writeHead(204).end();
        return;
      }
      const r = parseRegistration(name, await readJson(req, maxBody));
      // Subscribers named by MSISDN, IMSI or URI are matched by their subscriber key.
      for (const [i, s] of r.subscriptions.entries()) {
        if (s.contactList) s.contactList.owner = await subscriberKey(s.contactList.owner, `subscriptions[${i}].contactList.owner`);
        if (s.subscribers !== 'all') {
          const keys: string[] = [];
          for (const [j, id] of s.subscribers.entries()) keys.push(await subscriberKey(id, `subscriptions[${i}].subscribers[${j}]`));
          s.subscribers = keys;
        }
      }
      const { created } = await store.register(r);
      return sendJson(res, created ? 201 : 200, registrationJson(r));
    }

    if (path === '/events' && method === 'POST') {
      const name = caller(req, q, 'events:publish');
      const reg = await registered(name);
      const body = await readJson(req, maxBody);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new HttpError(400, 'body: must be an object {type, subject, payload, eventId?, time?}', {}, 'body');
      const b = body as Record<string, unknown>;
      const t = typeof b.type === 'string' ? eventType(b.type) : undefined;
      if (!t) throw new HttpError(400, `type: must be one of ${SERVICE_EVENT_TYPES.map((x) => x.type).join(', ')}`, {}, 'type');
      if (!reg.publishes.includes(t.type))
        throw new HttpError(403, `service ${name} did not register to publish ${t.type} (publishes: ${reg.publishes.join(', ') || 'none'})`);
      if (typeof b.subject !== 'string' || b.subject.trim() === '')
        throw new HttpError(400, 'subject: the subscriber the event is about (MSISDN, IMSI, URI or key)', {}, 'subject');
      const subject = await subscriberKey(b.subject, 'subject');
      if (b.eventId !== undefined && (typeof b.eventId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(b.eventId)))
        throw new HttpError(400, 'eventId: 1–128 visible ASCII characters (the publisher’s own id: a retry with it is one event)', {}, 'eventId');
      let time = Date.now();
      if (b.time !== undefined) {
        time = typeof b.time === 'string' ? Date.parse(b.time) : NaN;
        if (!Number.isFinite(time)) throw new HttpError(400, 'time: an ISO 8601 date-time', {}, 'time');
      }
      const payload = checkPayload(t, b.payload);
      const eventId = `service:${name}:${(b.eventId as string | undefined) ?? randomUUID()}`;
      const e = serviceEvent({ eventId, type: t.type, subject, time, source: `service:${name}` }, payload);
      await o.publish(e);
      return sendJson(res, 202, { eventId, type: t.type, subject });
    }

    if (path === '/events') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET', 'POST']);
      const name = caller(req, q, 'events:read');
      const reg = await registered(name);
      if (reg.delivery !== 'pull') throw new HttpError(409, `service ${name} is registered for ${reg.delivery} delivery, not pull`);
      const since = whole(q, 'since', undefined, Number.MAX_SAFE_INTEGER);
      const limit = whole(q, 'limit', 100, PAGE_MAX)!;
      if (limit === 0) throw new HttpError(400, `limit: must be 1–${PAGE_MAX}`, {}, 'limit');
      const waitMs = whole(q, 'wait', 0, PULL_WAIT_MAX_S)! * 1000;
      let page = await store.pull(name, since, limit);
      if (page.events.length === 0 && waitMs > 0) {
        let gone = false;
        req.on('close', () => (gone = true));
        const deadline = Date.now() + waitMs;
        while (page.events.length === 0 && !gone && Date.now() < deadline) {
          const left = Math.min(PULL_RECHECK_MS, deadline - Date.now());
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([o.nextLogged(), new Promise((r) => (timer = setTimeout(r, left)))]);
          clearTimeout(timer);
          // From the cursor the first read settled on: it was acknowledged once already.
          if (!gone) page = await store.pull(name, page.since, limit);
        }
        if (gone) return;
      }
      const next = page.events.at(-1)?.cursor ?? page.since;
      return sendJson(res, 200, { service: name, since: page.since, next, more: page.more, events: page.events }, NO_STORE);
    }

    if (path === '/events/stream') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      const name = caller(req, q, 'events:read');
      const reg = await registered(name);
      if (reg.delivery !== 'sse') throw new HttpError(409, `service ${name} is registered for ${reg.delivery} delivery, not sse`);
      const last = req.headers['last-event-id'];
      let from: number | undefined;
      if (typeof last === 'string' && last !== '') {
        if (!/^\d+$/.test(last)) throw new HttpError(400, 'Last-Event-ID: must be an id this stream sent', {}, 'Last-Event-ID');
        from = Number(last);
      } else from = whole(q, 'since', undefined, Number.MAX_SAFE_INTEGER);
      return stream(req, res, name, from ?? (await store.cursor(name)));
    }

    if (path === '/event-log') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      o.tokens?.authorize(req, 'events:read');
      const subscriber = q.get('subscriber') ? await subscriberKey(q.get('subscriber')!, 'subscriber') : undefined;
      const service = q.get('service') ?? undefined;
      const type = q.get('type') ?? undefined;
      if (type !== undefined && !eventType(type)) throw new HttpError(400, 'type: not an event type of the catalogue', {}, 'type');
      const limit = whole(q, 'limit', 100, PAGE_MAX)!;
      const before = whole(q, 'before', undefined, Number.MAX_SAFE_INTEGER);
      const events = await store.eventLog({
        limit: Math.max(limit, 1),
        ...(subscriber ? { subscriber } : {}),
        ...(service ? { service } : {}),
        ...(type ? { type } : {}),
        ...(before ? { before } : {}),
      });
      return sendJson(res, 200, { events }, NO_STORE);
    }

    throw new HttpError(404, `no such resource ${path}; try /services, /events, /events/stream, /event-log or /catalogue`);
  }

  return (req, res) => {
    o.stats?.track(res, () => eventsRoute(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname));
    route(req, res).catch((err: unknown) =>
      answerFailure(req, res, err, o.log, (e) =>
        e instanceof RegistrationInvalid || e instanceof ServiceEventInvalid ? { status: 400, body: { error: e.message, field: e.field } } : undefined,
      ),
    );
  };
}

export function startEventsHttpApi(o: EventsHttpApiOptions, port: number, host = '127.0.0.1'): Promise<http.Server> {
  return listen(createApiServer(requestHandler(o), o.limits), port, host);
}
