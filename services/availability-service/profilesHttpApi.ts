// The availability service's HTTP API (issue 16: profiles managed like the
// Ut/Pm interfaces, JSON):
//   GET  /subscribers/{subscriber}/profiles             the profiles (without any: the earlier settings as a default profile)
//   PUT  /subscribers/{subscriber}/profiles             replace them (validated; 400 names the field)
//   POST /subscribers/{subscriber}/profiles/activation  {profile, manualMode?} (404 when the subscriber has no profiles)
//   GET  /subscribers/{subscriber}/watchers[?status=]   its watchers as its event manager holds them (pending: awaiting consent)
//   POST /subscribers/{subscriber}/watchers/{watcher}/approve  {decision?} the watcher may see (rule stored, pending dialogs activated)
//   POST /subscribers/{subscriber}/watchers/{watcher}/deny     {polite?}   it may not (pending dialogs end rejected)
//   PUT  /subscribers/{subscriber}/message-summary      a messaging system's mailbox counts (RFC 3842) → Event: message-summary watchers
//   POST /subscribers/{subscriber}/messages             one new message {messageId, contentType, origin, contact?, …} → Event: message watchers
//   GET  /healthz                                       the database answers (and, run as a service, the outbox relay's stats)
//   GET  /openapi.json                                  this list as OpenAPI 3.1 (openapi.ts), no token
// {subscriber}: MSISDN, IMSI, sip:/tel: URI or subscriber key, URL-encoded.
// Errors are JSON {error, field?}: 400, 404, 405 + Allow, 413, 415, 503 database down,
// 500 with an error id. With bearer tokens configured, everything but /healthz and
// /openapi.json needs a token: profiles:read for GET, profiles:manage for changes,
// messages:publish for the two messaging routes (a voicemail platform's token).
import type http from 'node:http';
import type { Settings } from '../../config/settings.ts';
import { keyOf, UnknownIdentityError } from '../../coordinator/locator.ts';
import { type BearerTokens } from '../../protocols/http/bearerTokens.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import { HttpError, methodNotAllowed, readJson, segment } from '../../protocols/http/jsonRequest.ts';
import { answerFailure } from '../routeFailure.ts';
import { sendJson } from '../../protocols/http/jsonResponse.ts';
import { serveOpenApi } from '../../protocols/http/openApi.ts';
import { createApiServer, listen, type HttpLimits } from '../../protocols/http/serverLimits.ts';
import type { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { parseUserProfiles, ProfileValidationError } from '../../subscriber/availability/profileValidation.ts';
import { availabilityServiceOpenApi } from './openapi.ts';
import type { ConsentDecision, ConsentService } from './watcherConsents.ts';
import { noticeFacts, parseMessageRequest, parseSummaryRequest, summaryFacts, type MessageService } from './messagePublisher.ts';

/** What the API needs of the store (availabilityStore.ts; tests give their own). */
export type ProfileStore = Pick<AvailabilityStore, 'getMany' | 'setProfiles' | 'activate' | 'ping'>;

interface ProfilesHttpApiOptions {
  store: ProfileStore;
  settings: Settings;
  maxBodyBytes?: number;
  tokens?: BearerTokens;
  limits?: HttpLimits;
  log?: (line: string) => void;
  stats?: HttpStats;
  /** A change was committed (its outbox row with it): the relay is nudged rather than waiting for its poll. */
  onChange?: () => void;
  /** Extra fields for /healthz (e.g. the outbox backlog and the relay's stats). */
  health?: () => Promise<Record<string, unknown>>;
  /** Watchers and the presentity's answers to them (issue 16.4); absent: those routes answer 501. */
  consents?: ConsentService;
  /** Messaging systems' publishes (issue 17.5) to signaling-events; absent: those routes answer 501. */
  messages?: MessageService;
}

const DEFAULT_MAX_BODY = 256 * 1024;
/** Dialogs of the subscriber's own (its watchers, its mailbox: streams/event-manager/subscriptions/messageWaiting.ts OWN_PACKAGES). */
const OWN_PACKAGES = ['presence.winfo', 'message-summary', 'message'];

/** The route of a path, for metrics: subscriber identities stay out of the labels. */
export function profilesRoute(method: string, path: string): string {
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/healthz') return `${method} healthz`;
  if (/^\/subscribers\/[^/]+\/profiles$/.test(p)) return `${method} profiles`;
  if (/^\/subscribers\/[^/]+\/profiles\/activation$/.test(p)) return `${method} activation`;
  if (/^\/subscribers\/[^/]+\/watchers$/.test(p)) return `${method} watchers`;
  const answer = /^\/subscribers\/[^/]+\/watchers\/[^/]+\/(approve|deny)$/.exec(p);
  if (answer) return `${method} watcher ${answer[1]}`;
  if (/^\/subscribers\/[^/]+\/message-summary$/.test(p)) return `${method} message-summary`;
  if (/^\/subscribers\/[^/]+\/messages$/.test(p)) return `${method} messages`;
  return 'other';
}

/** The activation body: the profile to make active, and optionally its manual mode (null clears it). */
function parseActivation(body: unknown): { profile: string; manualMode?: string | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: must be an object {profile, manualMode?}', {}, 'body');
  const o = body as Record<string, unknown>;
  if (typeof o.profile !== 'string' || o.profile === '') throw new HttpError(400, 'profile: must name one of the subscriber’s profiles', {}, 'profile');
  if (o.manualMode !== undefined && o.manualMode !== null && typeof o.manualMode !== 'string')
    throw new HttpError(400, 'manualMode: must be a mode name, or null to clear it', {}, 'manualMode');
  return { profile: o.profile, ...(o.manualMode !== undefined ? { manualMode: o.manualMode as string | null } : {}) };
}

/** The decisions an approval may store (what the watcher then sees). */
const APPROVALS: readonly ConsentDecision[] = ['allow', 'allow-presence', 'allow-location'];
/** A watcher as the rules name it: a sip:/sips:/tel: URI, or *@domain for all of a domain. */
const WATCHER = /^((sips?|tel):[^\s<>"]+|\*@[A-Za-z0-9.-]+)$/;

function parseApproval(body: unknown): ConsentDecision {
  if (body === undefined) return 'allow';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: must be an object {decision?}', {}, 'body');
  const d = (body as Record<string, unknown>).decision;
  if (d === undefined) return 'allow';
  if (typeof d !== 'string' || !APPROVALS.includes(d as ConsentDecision))
    throw new HttpError(400, `decision: must be one of ${APPROVALS.join(', ')}`, {}, 'decision');
  return d as ConsentDecision;
}

function parseDenial(body: unknown): ConsentDecision {
  if (body === undefined) return 'block';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: must be an object {polite?}', {}, 'body');
  const polite = (body as Record<string, unknown>).polite;
  if (polite !== undefined && typeof polite !== 'boolean')
    throw new HttpError(400, 'polite: must be true (the watcher sees a closed presence) or false', {}, 'polite');
  return polite ? 'polite-block' : 'block';
}

function profilesRequestHandler(o: ProfilesHttpApiOptions): http.RequestListener {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const { store } = o;

  const subscriberKey = async (raw: string): Promise<string> => {
    try {
      return await keyOf(o.settings, segment(raw, 'subscriber'));
    } catch (err) {
      if (err instanceof UnknownIdentityError) throw new HttpError(400, err.message, {}, 'subscriber');
      throw err;
    }
  };

  const consentService = (): ConsentService => {
    if (!o.consents) throw new HttpError(501, 'this availability service runs without watcher consent (no Kafka configured for it)');
    return o.consents;
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (serveOpenApi(req, res, path, availabilityServiceOpenApi)) return;
    if (path === '/healthz') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      await store.ping();
      return sendJson(res, 200, { database: 'up', ...(await o.health?.()) });
    }
    const messaging = /^\/subscribers\/([^/]+)\/(message-summary|messages)$/.exec(path);
    if (messaging) {
      const allowed = messaging[2] === 'messages' ? 'POST' : 'PUT';
      if (method !== allowed) throw methodNotAllowed(method, [allowed]);
      o.tokens?.authorize(req, 'messages:publish');
      if (!o.messages) throw new HttpError(501, 'this availability service runs without message publishing (no Kafka configured for it)');
      const key = await subscriberKey(messaging[1]!);
      const body = await readJson(req, maxBody);
      const at = Date.now();
      // Validated before Kafka is asked: a bad request never reaches the event managers.
      const facts = messaging[2] === 'messages' ? noticeFacts(parseMessageRequest(body, at)) : summaryFacts(parseSummaryRequest(body));
      const eventId = await o.messages.publish(key, facts, at);
      return sendJson(res, 202, { subscriber: key, eventId });
    }
    o.tokens?.authorize(req, method === 'GET' || method === 'HEAD' ? 'profiles:read' : 'profiles:manage');

    const profiles = /^\/subscribers\/([^/]+)\/profiles$/.exec(path);
    if (profiles) {
      if (method === 'GET') {
        const key = await subscriberKey(profiles[1]!);
        return sendJson(res, 200, { subscriber: key, ...(await store.getMany([key])).get(key)! });
      }
      if (method === 'PUT') {
        const key = await subscriberKey(profiles[1]!);
        const body = await readJson(req, maxBody);
        if (body === undefined) throw new HttpError(400, 'the profiles are required in the body ({active, profiles: [...]})', {}, 'body');
        // Validated before the store is asked: a bad document never reaches the database.
        const stored = await store.setProfiles(key, parseUserProfiles(body));
        o.onChange?.();
        return sendJson(res, 200, { subscriber: key, ...stored });
      }
      throw methodNotAllowed(method, ['GET', 'PUT']);
    }

    const activation = /^\/subscribers\/([^/]+)\/profiles\/activation$/.exec(path);
    if (activation) {
      if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
      const key = await subscriberKey(activation[1]!);
      const a = parseActivation(await readJson(req, maxBody));
      const next = await store.activate(key, a.profile, a.manualMode);
      o.onChange?.();
      return sendJson(res, 200, { subscriber: key, ...next });
    }

    const watchers = /^\/subscribers\/([^/]+)\/watchers$/.exec(path);
    if (watchers) {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      const key = await subscriberKey(watchers[1]!);
      const status = new URL(req.url ?? '/', 'http://localhost').searchParams.get('status');
      if (status !== null && status !== 'pending' && status !== 'active') throw new HttpError(400, 'status: must be pending or active', {}, 'status');
      const held = await consentService().watchers(key);
      // The presentity's own winfo and mailbox dialogs are not watchers of it; an ended dialog is only remembered for its CSeq.
      const listed = held
        .filter((w) => !OWN_PACKAGES.includes(w.event) && w.state !== 'ended' && (status === null || w.state === status))
        .map((w) => ({ watcher: w.watcherUri, event: w.event, state: w.state, decision: w.decision, expiresAt: w.expiresAt }));
      return sendJson(res, 200, { subscriber: key, watchers: listed });
    }

    const answer = /^\/subscribers\/([^/]+)\/watchers\/([^/]+)\/(approve|deny)$/.exec(path);
    if (answer) {
      if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
      const key = await subscriberKey(answer[1]!);
      const watcher = segment(answer[2]!, 'watcher');
      if (!WATCHER.test(watcher)) throw new HttpError(400, 'watcher: must be a sip:, sips: or tel: URI, or *@domain', {}, 'watcher');
      const body = await readJson(req, maxBody);
      const decision = answer[3] === 'approve' ? parseApproval(body) : parseDenial(body);
      const sent = await consentService().answer(key, watcher, decision);
      return sendJson(res, 200, { subscriber: key, watcher: sent.watcher, decision: sent.decision, consentId: sent.consentId });
    }

    throw new HttpError(404, `no such resource ${path}; try /subscribers/{subscriber}/profiles, …/profiles/activation, …/watchers or /healthz`);
  }

  return (req, res) => {
    o.stats?.track(res, () => profilesRoute(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname));
    route(req, res).catch((err: unknown) =>
      // The store's "no profiles to activate" names the subscriber: a missing resource, not bad input.
      answerFailure(req, res, err, o.log, (e) =>
        e instanceof ProfileValidationError ? { status: e.field === 'subscriber' ? 404 : 400, body: { error: e.message, field: e.field } } : undefined,
      ),
    );
  };
}

export function startProfilesHttpApi(o: ProfilesHttpApiOptions, port: number, host = '127.0.0.1'): Promise<http.Server> {
  return listen(createApiServer(profilesRequestHandler(o), o.limits), port, host);
}
