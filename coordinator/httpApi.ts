// The coordinator's HTTP API: GET /locate/{identity} answers what
// `presence locate` prints (owner from the members' reports: id, host, SIP
// contact, HTTP url, report age); GET /healthz says whether Kafka answers;
// GET /openapi.json is this API as OpenAPI 3.1 (openapi.ts), with no token.
// Errors use HTTP statuses: 400 for an identity that is none, 404 for an
// unknown path, 405 for other methods, 503 when Kafka does not answer.
import http from 'node:http';
import { AccessRefused, type BearerTokens } from '../protocols/http/bearerTokens.ts';
import { requesterOf, RequesterRefused } from '../protocols/http/queryRequester.ts';
import { internalErrorBody } from '../protocols/http/internalError.ts';
import { createApiServer, listen } from '../protocols/http/serverLimits.ts';
import type { Settings } from '../config/settings.ts';
import type { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { brokerAnswers } from '../kafka/kafkaAdmin.ts';
import { KafkaUnavailableError } from '../kafka/recordProducer.ts';
import { OwnerRefused, UnknownIdentityError, UserViewUnavailable, locate } from './locator.ts';
import { MemberReportsUnavailableError } from './memberReportsReader.ts';
import { sendJson } from '../protocols/http/jsonResponse.ts';
import type { HttpStats } from '../protocols/http/httpStats.ts';
import { serveOpenApi } from '../protocols/http/openApi.ts';
import { locatorOpenApi } from './openapi.ts';

/**
 * With `tokens`, /locate needs a bearer token with the scope `locate` (presence and cell location are personal data); /healthz stays open.
 * With `stats`, every answer is counted by route (locate, healthz, other) and code for the admin port.
 */
export function startHttpApi(
  s: Settings,
  port: number,
  host = '127.0.0.1',
  directory?: SubscriberDirectory,
  tokens?: BearerTokens,
  stats?: HttpStats,
): Promise<http.Server> {
  const server = createApiServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    stats?.track(res, () => (url.pathname === '/healthz' ? 'healthz' : url.pathname.startsWith('/locate/') ? 'locate' : 'other'));
    try {
      if (serveOpenApi(req, res, url.pathname, locatorOpenApi)) return;
      if (req.method !== 'GET') return sendJson(res, 405, { error: `method ${req.method} not allowed; use GET` }, { allow: 'GET' });
      if (url.pathname === '/healthz') {
        const ok = await brokerAnswers(s.kafka.brokers);
        return sendJson(res, ok ? 200 : 503, { kafka: ok ? 'up' : 'down', brokers: s.kafka.brokers });
      }
      const m = /^\/locate\/(.+)$/.exec(url.pathname);
      if (!m) return sendJson(res, 404, { error: `no such resource ${url.pathname}; try /locate/{msisdn|imsi|aor} or /healthz` });
      // The presence's connectability is this requester's (the token's user, or whom a service client names).
      const client = tokens?.authorize(req, 'locate');
      const requester = requesterOf(url, client);
      // A user's token gets that user's view, decided by the owner; a service client's, the operator's.
      return sendJson(res, 200, await locate(s, decodeURIComponent(m[1]!), directory, requester, client?.identity !== undefined));
    } catch (err) {
      if (err instanceof AccessRefused) return sendJson(res, err.status, { error: err.message }, err.headers);
      if (err instanceof RequesterRefused) return sendJson(res, err.status, { error: err.message, parameter: 'requester' });
      if (err instanceof OwnerRefused) return sendJson(res, 403, { error: err.message });
      if (err instanceof UserViewUnavailable) return sendJson(res, 503, { error: err.message }, { 'retry-after': '2' });
      if (err instanceof UnknownIdentityError) return sendJson(res, 400, { error: err.message });
      if (err instanceof KafkaUnavailableError || err instanceof MemberReportsUnavailableError || /connect|broker|timed out/i.test((err as Error).message)) {
        // librdkafka's own messages ("broker transport failure") don't say which Kafka.
        const msg = (err as Error).message;
        return sendJson(res, 503, { error: msg.includes(s.kafka.brokers) ? msg : `${msg} (Kafka at ${s.kafka.brokers})` });
      }
      return sendJson(res, 500, internalErrorBody(err, `GET ${url.pathname}`));
    }
  }, s.http.limits);
  return listen(server, port, host);
}
