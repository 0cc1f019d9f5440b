// The admin port every long-running process can open (--admin-port): GET /metrics
// (Prometheus text format), /livez and /readyz (Kubernetes' probe names). Kept
// apart from the APIs: no tokens (no personal data here: counts only, never
// keys or URIs), and bound to loopback unless the operator says otherwise.
//
// /livez answers from the event loop itself, so a blocked loop fails the probe by
// timeout; a component's own liveness (its loop failed) is its `live` check.
// /readyz is 503 with a JSON reason until the component can do its work.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer, listen, type HttpLimits } from './serverLimits.ts';
import type { MetricsRegistry } from './metrics.ts';
import { NO_STORE, sendJson } from './jsonResponse.ts';

/** Every answer here is live state: never cached. */
const reply = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  sendJson(res, status, body, { ...NO_STORE, ...headers });

export interface HealthCheck {
  ok: boolean;
  /** Why not, for the operator (JSON body of the 503). */
  reason?: string;
  /** Extra facts (partitions restoring, brokers), shown either way. */
  details?: Record<string, unknown>;
}

export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port (logged by the caller from `url`). */
  port: number;
  metrics: MetricsRegistry;
  ready: () => HealthCheck | Promise<HealthCheck>;
  live?: () => HealthCheck;
  limits?: HttpLimits;
}

export interface AdminServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Several parts that must all be ready (a member and its embedded SIP front end, both
 * halves of group presence): ready when every one is; the reasons of those that are not,
 * each named, and every part's facts under its name.
 */
export function allReady(parts: ReadonlyArray<readonly [string, HealthCheck]>): HealthCheck {
  const details: Record<string, unknown> = {};
  const reasons: string[] = [];
  for (const [name, c] of parts) {
    details[name] = { ready: c.ok, ...(c.reason ? { reason: c.reason } : {}), ...(c.details ?? {}) };
    if (!c.ok) reasons.push(`${name}: ${c.reason ?? 'not ready'}`);
  }
  return reasons.length ? { ok: false, reason: reasons.join('; '), details } : { ok: true, details };
}

/**
 * A check that costs a round trip (a broker, a database), asked at most every `ttlMs`
 * however often probes and scrapes come; concurrent callers share one attempt.
 */
export function cachedCheck(check: () => Promise<HealthCheck>, ttlMs = 5000): () => Promise<HealthCheck> {
  let last: { at: number; value: Promise<HealthCheck> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs)
      last = { at: Date.now(), value: check().catch((err: unknown) => ({ ok: false, reason: (err as Error).message })) };
    return last.value;
  };
}

function sendCheck(res: http.ServerResponse, name: string, c: HealthCheck): void {
  reply(res, c.ok ? 200 : 503, { status: c.ok ? name : `not ${name}`, ...(c.reason ? { reason: c.reason } : {}), ...(c.details ?? {}) });
}

export async function startAdminServer(o: AdminServerOptions): Promise<AdminServer> {
  const server = createApiServer(
    (req, res) => {
      void (async () => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, { error: `method ${req.method} not allowed; use GET` });
        try {
          if (path === '/metrics') {
            const { contentType, body } = await o.metrics.scrape();
            res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
            return res.end(body);
          }
          if (path === '/livez') return sendCheck(res, 'live', o.live?.() ?? { ok: true });
          if (path === '/readyz') return sendCheck(res, 'ready', await o.ready());
          return reply(res, 404, { error: `no such resource ${path}; try /metrics, /livez or /readyz` });
        } catch (err) {
          // A check that throws is an answer too: not ready, and why.
          return reply(res, path === '/metrics' ? 500 : 503, { error: (err as Error).message });
        }
      })();
    },
    { requestTimeoutMs: 10_000, ...o.limits },
  );
  await listen(server, o.port, o.host);
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
