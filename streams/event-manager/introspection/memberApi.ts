// A member's own HTTP API (issue 14.7): asked about a subscriber, the member
// that owns it answers from its store in milliseconds — what `presence
// watchers` and `presence locate` use instead of scanning a compacted topic.
//   GET /subscribers/{key}[?requester=…]  presence, publications, watcher dialogs (scope subscribers:read);
//                           the presence's connectability (and the PIDF's element) is the requester's
//                           (issue 16.3): the token's user, or whom a service client names, else a stranger's
//   GET /subscribers/{key}/call-handling?caller=…&medium=…&urgent=…&voicemail=…&at=…
//                           what to do with a call or message to it now (scope calls:decide)
//   GET /stats              the member's counters and partitions (no personal data)
//   GET /openapi.json       this list as OpenAPI 3.1 (openapi.ts), no token
// A key whose partition this member does not hold is 421 (Misdirected Request)
// with the partition, so the caller asks the owner named by the member reports.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../../../config/settings.ts';
import { partitionOf } from '../../../kafka/partitioner.ts';
import { AccessRefused, type BearerTokens } from '../../../protocols/http/bearerTokens.ts';
import { requesterOf, RequesterRefused } from '../../../protocols/http/queryRequester.ts';
import { connectabilityFor } from '../presence/connectability.ts';
import { withConnectability } from '../presence/connectabilityElement.ts';
import { consentGiven } from '../handlers/presenceChange.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import type { WatcherDecision } from '../subscriptions/watcherDialog.ts';
import { internalErrorBody } from '../../../protocols/http/internalError.ts';
import { createApiServer, listen } from '../../../protocols/http/serverLimits.ts';
import type { EventManager } from '../eventManager.ts';
import { subscriberView } from './subscriberView.ts';
import { NO_STORE, sendJson } from '../../../protocols/http/jsonResponse.ts';
import { serveOpenApi } from '../../../protocols/http/openApi.ts';
import { memberApiOpenApi } from './openapi.ts';
import { decideCall, type CallRequest } from '../../../subscriber/call-handling/callDecision.ts';
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import type { SubscriberPresence } from '../presence/model.ts';
import { CallQueryError, parseCallQuery } from '../../../subscriber/call-handling/callQuery.ts';
import { calleeState } from './calleeState.ts';
import { ProfileBatches } from './profileBatches.ts';

/** Every answer here is live state: never cached. */
const reply = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  sendJson(res, status, body, { ...NO_STORE, ...headers });

export const SUBSCRIBERS_READ = 'subscribers:read';
/** Asking what to do with a call (a CSCF, a softswitch, the call-handling redirect server): no presence details. */
export const CALLS_DECIDE = 'calls:decide';

/**
 * GET /subscribers/{key}: the presence with the subscriber's own profiles, now, for this
 * requester (its lists, mode and the consent its watcher rule gives). A user asking as
 * itself gets the presence only (the watcher dialogs are the operator's), and none at all
 * when the presentity blocked it.
 */
async function answerSubscriber(
  res: http.ServerResponse,
  memberId: string,
  em: EventManager,
  profileBatches: ProfileBatches,
  at: { key: string; partition: number; held: ManagedSubscriber },
  requester: string | undefined,
  asUser: boolean,
): Promise<void> {
  const { key, partition, held } = at;
  let profiles: UserProfiles;
  let decision: WatcherDecision | undefined;
  try {
    [profiles, decision] = await Promise.all([profileBatches.get(key), requester === undefined ? undefined : em.watcherDecision(key, requester)]);
  } catch (err) {
    return reply(
      res,
      503,
      { error: `availability profiles or watcher rules unavailable: ${err instanceof Error ? err.message : String(err)}` },
      { 'retry-after': '1' },
    );
  }
  if (asUser && decision === 'block') return reply(res, 403, { error: `${key} does not let ${requester} see its presence` });
  try {
    const now = Date.now();
    const view = subscriberView(key, partition, held, { availability: profiles, at: now });
    const { connectability } = connectabilityFor(held.presence, profiles, now, {
      identity: requester,
      consented: decision !== undefined && consentGiven(decision),
    });
    const presence = { ...view.presence, connectability, pidf: withConnectability(view.presence.pidf, connectability) };
    if (asUser) return reply(res, 200, { memberId, key, partition, requester: requester ?? null, presence });
    reply(res, 200, { memberId, ...view, requester: requester ?? null, presence });
  } catch (err) {
    reply(res, 500, internalErrorBody(err, `GET /subscribers/${key}`));
  }
}

export interface MemberApi {
  readonly url: string;
  readonly port: number;
  /** The member to answer for: the API listens first, so its URL can go into the member's reports. */
  serve(em: EventManager): void;
  close(): Promise<void>;
}

/** The call-handling decision: the profiles (cached briefly; their database down is a 503 outage), then the pure decision. */
async function answerCall(
  res: http.ServerResponse,
  memberId: string,
  profileBatches: ProfileBatches,
  key: string,
  partition: number,
  presence: SubscriberPresence,
  query: CallRequest,
): Promise<void> {
  let profiles: UserProfiles;
  try {
    profiles = await profileBatches.get(key);
  } catch (err) {
    return reply(res, 503, { error: `availability profiles unavailable: ${err instanceof Error ? err.message : String(err)}` }, { 'retry-after': '1' });
  }
  try {
    const decision = decideCall(calleeState(key, presence), profiles, query);
    reply(res, 200, { memberId, key, partition, at: new Date(query.at).toISOString(), ...decision });
  } catch (err) {
    reply(res, 500, internalErrorBody(err, `GET /subscribers/${key}/call-handling`));
  }
}

export async function startMemberApi(
  s: Settings,
  o: { memberId: string; port: number; host: string; advertisedHost?: string; tokens?: BearerTokens },
): Promise<MemberApi> {
  let em: EventManager | undefined;
  // Set with the member: the keys of concurrent call-handling queries share one profile lookup.
  let profileBatches: ProfileBatches | undefined;
  const server = createApiServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (serveOpenApi(req, res, url.pathname, memberApiOpenApi)) return;
      if (req.method !== 'GET') return reply(res, 405, { error: `method ${req.method} not allowed; use GET` }, { allow: 'GET' });
      if (!em) return reply(res, 503, { error: `member ${o.memberId} is starting` }, { 'retry-after': '2' });
      if (url.pathname === '/stats') {
        return reply(res, 200, { memberId: o.memberId, partitions: em.processor.ctx.partitions(), eventManager: em.stats, processor: em.processor.stats });
      }
      const m = /^\/subscribers\/([^/]+)(\/call-handling)?$/.exec(url.pathname);
      if (!m) return reply(res, 404, { error: `no such resource ${url.pathname}; try /subscribers/{key}, /subscribers/{key}/call-handling or /stats` });
      const callHandling = m[2] !== undefined;
      const client = o.tokens?.authorize(req, callHandling ? CALLS_DECIDE : SUBSCRIBERS_READ);
      const key = decodeURIComponent(m[1]!);
      const query = callHandling ? parseCallQuery(url.searchParams, Date.now()) : undefined;
      const requester = callHandling ? undefined : requesterOf(url, client);
      const partition = partitionOf(key, s.topics.partitions);
      if (!em.processor.ctx.partitions().includes(partition))
        return reply(res, 421, { error: `partition ${partition} of ${key} is not held by member ${o.memberId}; ask its owner (presence locate)`, partition });
      const held = em.processor.ctx.store(partition).get(key);
      if (!held) return reply(res, 404, { error: `member ${o.memberId} holds no state for ${key} (no signaling, publication or watcher yet)`, partition });
      if (!profileBatches) return reply(res, 503, { error: `member ${o.memberId} is starting` }, { 'retry-after': '2' });
      if (query) return void answerCall(res, o.memberId, profileBatches, key, partition, held.presence, query);
      // A user's token, or a service asking on a user's behalf (view=requester): that user's view only.
      const asUser = client?.identity !== undefined || (requester !== undefined && url.searchParams.get('view') === 'requester');
      return void answerSubscriber(res, o.memberId, em, profileBatches, { key, partition, held }, requester, asUser);
    } catch (err) {
      if (err instanceof AccessRefused) return reply(res, err.status, { error: err.message }, err.headers);
      if (err instanceof CallQueryError) return reply(res, 400, { error: err.message, parameter: err.parameter });
      if (err instanceof RequesterRefused) return reply(res, err.status, { error: err.message, parameter: 'requester' });
      return reply(res, 500, internalErrorBody(err, `GET ${url.pathname}`));
    }
  }, s.http.limits);
  await listen(server, o.port, o.host);
  const port = (server.address() as AddressInfo).port;
  const host = o.advertisedHost ?? o.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    serve: (member) => {
      em = member;
      profileBatches = new ProfileBatches((keys) => member.profilesOf(keys));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
