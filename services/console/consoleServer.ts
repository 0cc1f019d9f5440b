// `presence run console`: the web console's HTTP side. Serves the page (plain
// HTML + JS from web/, no build step) and its JSON and server-sent-event API:
//   GET /api/stream                      status, group snapshots, partition moves, the group's lag, flow counters
//   GET /api/subscribers/{key}/stream    one subscriber's watchers, presence changes, NOTIFYs, deliveries, signaling
//   GET /api/locate/{identity}           what `presence locate` answers (400 for a non-identity)
//   GET /api/healthz                     200 while Kafka is read, else 503
// Read-only: nothing here writes to Kafka. Errors are JSON with an HTTP status;
// while Kafka is down the API answers 503 and the stream says so.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../../config/settings.ts';
import { internalErrorBody } from '../../protocols/http/internalError.ts';
import { createApiServer, listen } from '../../protocols/http/serverLimits.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { isSubscriberKey } from '../../subscriber/identity/subscriberKey.ts';
import { KafkaUnavailableError } from '../../kafka/recordProducer.ts';
import { UnknownIdentityError, locate } from '../../coordinator/locator.ts';
import { MemberReportsUnavailableError } from '../../coordinator/memberReportsReader.ts';
import { LiveFeed, watcherList, type LagSource } from './liveFeed.ts';
import type { PartitionMove } from './groupView.ts';
import { newestState } from './storeReader.ts';
import { NO_STORE, sendJson } from '../../protocols/http/jsonResponse.ts';

/** Every answer here is live state: never cached. */
const reply = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  sendJson(res, status, body, { ...NO_STORE, ...headers });

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web');
/** The only files served: a fixed list, so no path from a request ever reaches the file system. */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};
/** A page that does not read its stream is dropped past this much unsent data, rather than held in memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface ConsoleOptions {
  port: number;
  host: string;
  /** Consulted by locate for the canonical key, as `presence locate` does. */
  directory?: SubscriberDirectory;
  /** Pause between attempts to reach Kafka (default 3 s). */
  retryMs?: number;
  /** The event managers' group and inputs, for the lag per partition; none: no lag shown. */
  lag?: LagSource;
  log?: (line: string) => void;
}

export interface Console {
  server: http.Server;
  feed: LiveFeed;
  /** Pages with an open event stream (for the admin port). */
  readonly openStreams: number;
  stop(): Promise<void>;
}

/** An open text/event-stream response; send() drops the page if it stopped reading. */
class EventStream {
  private closed = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly res: http.ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    // Comments keep proxies and idle timers from closing a quiet stream.
    const keepAlive = setInterval(() => this.closed || res.write(': keep-alive\n\n'), 15_000);
    this.onClose(() => clearInterval(keepAlive));
    res.on('close', () => {
      this.closed = true;
      for (const f of this.cleanups.splice(0)) f();
    });
  }

  onClose(f: () => void): void {
    if (this.closed) f();
    else this.cleanups.push(f);
  }

  send(event: string, data: unknown): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.res.destroy();
      return;
    }
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

export async function startConsole(s: Settings, o: ConsoleOptions): Promise<Console> {
  const log = o.log ?? (() => {});
  const feed = new LiveFeed(s, { ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}), ...(o.lag ? { lag: o.lag } : {}), log });
  const streams = new Set<EventStream>();
  const kafkaDown = () => `Kafka at ${s.kafka.brokers} is not readable: ${feed.status.error ?? 'still connecting'}`;
  const flowSnapshot = () => ({ ...feed.flow.snapshot(Date.now()), recentPresence: feed.recentPresence, undecodable: feed.undecodable });

  // Members are sent when a report arrives (at most every 200 ms) and every second anyway, so ages and staleness stay current.
  let membersDue: NodeJS.Timeout | undefined;
  const broadcast = (event: string, data: unknown) => streams.forEach((st) => st.send(event, data));
  const offStatus = feed.on('status', (st) => broadcast('status', st));
  // The latest moves are kept, so a page opened after a rebalance still sees it.
  const recentMoves: Array<{ at: number; moves: PartitionMove[] }> = [];
  const offMoves = feed.on('moves', (moves) => {
    const batch = { at: Date.now(), moves };
    recentMoves.push(batch);
    if (recentMoves.length > 30) recentMoves.shift();
    broadcast('moves', batch);
  });
  const offLag = feed.on('lag', (lag) => broadcast('lag', lag));
  const offMembers = feed.on('members', () => {
    membersDue ??= setTimeout(() => {
      membersDue = undefined;
      broadcast('members', feed.group.snapshot(Date.now()));
    }, 200);
  });
  const ticker = setInterval(() => {
    if (streams.size === 0) return;
    broadcast('members', feed.group.snapshot(Date.now()));
    broadcast('flow', flowSnapshot());
  }, 1000);

  const staticFile = async (res: http.ServerResponse, entry: { file: string; type: string }) => {
    const body = await readFile(path.join(WEB, entry.file));
    res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  };

  const server = createApiServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method !== 'GET') return reply(res, 405, { error: `method ${req.method} not allowed; the console is read-only (GET)` });
      const file = STATIC[url.pathname];
      if (file) return await staticFile(res, file);
      if (url.pathname === '/api/healthz') return reply(res, feed.status.kafka === 'up' ? 200 : 503, feed.status);
      if (url.pathname === '/api/stream') {
        const st = new EventStream(res);
        streams.add(st);
        st.onClose(() => streams.delete(st));
        st.send('status', feed.status);
        st.send('members', feed.group.snapshot(Date.now()));
        st.send('flow', flowSnapshot());
        for (const batch of recentMoves) st.send('moves', batch);
        if (feed.lag) st.send('lag', feed.lag);
        return;
      }
      const follow = /^\/api\/subscribers\/([^/]+)\/stream$/.exec(url.pathname);
      if (follow) {
        const key = decodeURIComponent(follow[1]!);
        if (!isSubscriberKey(key))
          return reply(res, 400, {
            error: `${key} is not a subscriber key (msisdn:+E164, imsi:digits, aor:sip:user@host); find it with /api/locate/{identity}`,
          });
        const st = new EventStream(res);
        st.onClose(feed.follow(key, (e) => st.send(e.event, e.data)));
        st.send('following', { key, status: feed.status });
        // The watchers held now, from the owner's store changelog; live changes follow on the same stream.
        if (feed.status.kafka === 'up')
          newestState(s, feed.serde, key).then(
            (state) => st.send('watchers', watcherList(key, state)),
            (err: unknown) => log(`console: watchers of ${key} not read: ${(err as Error).message}`),
          );
        return;
      }
      const loc = /^\/api\/locate\/(.+)$/.exec(url.pathname);
      if (loc) {
        if (feed.status.kafka !== 'up') return reply(res, 503, { error: kafkaDown() });
        return reply(res, 200, await locate(s, decodeURIComponent(loc[1]!), o.directory));
      }
      return reply(res, 404, {
        error: `no such resource ${url.pathname}; the page is at /, the API under /api/ (stream, subscribers/{key}/stream, locate/{identity}, healthz)`,
      });
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof UnknownIdentityError) return reply(res, 400, { error: err.message });
      if (err instanceof URIError) return reply(res, 400, { error: `bad percent-encoding in ${url.pathname}` });
      const msg = (err as Error).message;
      if (err instanceof KafkaUnavailableError || err instanceof MemberReportsUnavailableError || /connect|broker|timed out/i.test(msg))
        return reply(res, 503, { error: msg.includes(s.kafka.brokers) ? msg : `${msg} (Kafka at ${s.kafka.brokers})` });
      return reply(res, 500, internalErrorBody(err, `GET ${url.pathname}`, log));
    }
  }, s.http.limits);
  await listen(server, o.port, o.host);
  feed.start();

  return {
    server,
    feed,
    get openStreams() {
      return streams.size;
    },
    async stop() {
      clearInterval(ticker);
      clearTimeout(membersDue);
      offStatus();
      offMoves();
      offLag();
      offMembers();
      // Open event streams never end by themselves: close them so the server can.
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await feed.stop();
    },
  };
}
