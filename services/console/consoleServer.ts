// `presence run console`: the web console's HTTP side. Serves the page (plain
// HTML + JS from web/, no build step) and its JSON and server-sent-event API:
//   GET /api/stream                      status, group snapshots, partition moves, the group's lag, flow counters
//   GET /api/subscribers/{key}/stream    one subscriber's watchers, presence changes, NOTIFYs, deliveries, signaling
//   GET /api/locate/{identity}           what `presence locate` answers (400 for a non-identity)
//   GET /api/healthz                     200 while Kafka is read, else 503
//   GET /api/groups[/{id}?watcher=|role=] the groups, and one as a watcher (or a member of a role) sees it
// Read-only unless management is enabled (ConsoleOptions.management): then a
// token with the console:manage scope logs in (POST /api/session → HttpOnly
// cookie, consoleSessions.ts) and may replay a capture (POST /api/replays).
// Errors are JSON with an HTTP status; while Kafka is down the API answers 503
// and the stream says so.
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
import type { PartitionMove, RestoreDone } from './groupView.ts';
import { newestState } from './storeReader.ts';
import { NO_STORE, sendJson } from '../../protocols/http/jsonResponse.ts';
import { AccessRefused, type BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { NoSuchRole, type GroupPerspective, type Viewer } from './presenceGroups.ts';
import { ConsoleSessions, clearedCookie, sameOrigin } from './consoleSessions.ts';
import { ConsoleReplays, ReplayBusy, ReplayRequestError, parseReplayRequest, type Capture } from './consoleReplay.ts';
import { serveOpenApi } from '../../protocols/http/openApi.ts';
import { consoleOpenApi } from './openapi.ts';

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
/** Request bodies the console takes are a few fields. */
const MAX_BODY_BYTES = 16 * 1024;

class BadRequest extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new BadRequest(415, 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest(400, 'the body is not valid JSON');
  }
}

/** ?watcher=<uri> or ?role=<role> (not both); neither: the group's own view. */
function viewerOf(q: URLSearchParams): Viewer {
  const watcher = q.get('watcher')?.trim();
  const role = q.get('role')?.trim();
  if (watcher && role) throw new BadRequest(400, 'ask as a watcher or as a role, not both');
  if (watcher) {
    if (!/^(sips?|tel):\S+$/i.test(watcher)) throw new BadRequest(400, `watcher must be a sip:, sips: or tel: URI, not ${watcher}`);
    return { kind: 'watcher', uri: watcher };
  }
  if (role) return { kind: 'role', role };
  return { kind: 'group' };
}

export interface ConsoleOptions {
  port: number;
  host: string;
  /** Consulted by locate for the canonical key, as `presence locate` does. */
  directory?: SubscriberDirectory;
  /** Pause between attempts to reach Kafka (default 3 s). */
  retryMs?: number;
  /** The event managers' group and inputs, for the lag per partition; none: no lag shown. */
  lag?: LagSource;
  /** What a watcher sees of a group (the group presence policy functions, handed in: cli/commands/console.ts); none: members unfiltered. */
  groupPerspective?: GroupPerspective;
  /** Actions that change the system; absent: the console is read-only (405 to every change). */
  management?: {
    /** The API tokens; a login needs one holding console:manage. */
    tokens: BearerTokens;
    /** Captures the page may replay (consoleReplay.ts: listCaptures). */
    captures: readonly Capture[];
    /** Session lifetime (default 1 h). */
    sessionTtlMs?: number;
    /**
     * Scales the event-manager group to N members (the CLI hands in the local fleet's,
     * infra/local/eventManagerFleet.ts, as `presence scale event-managers N` does); none: not offered.
     */
    scale?: (target: number, log: (line: string) => void) => Promise<Array<{ id: string; pid: number }>>;
  };
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
  // Ended restores go to the same log as the moves: "p3 restored at em-2".
  const recentRestores: RestoreDone[][] = [];
  const offRestored = feed.on('restored', (done) => {
    recentRestores.push(done);
    if (recentRestores.length > 30) recentRestores.shift();
    broadcast('restored', done);
  });
  const offMembers = feed.on('members', () => {
    membersDue ??= setTimeout(() => {
      membersDue = undefined;
      broadcast('members', feed.group.snapshot(Date.now()));
    }, 200);
  });
  // Group changes come in bursts (one group service change touches two topics): the list goes out at most every 300 ms.
  let groupsDue: NodeJS.Timeout | undefined;
  const offGroups = feed.on('groups', () => {
    groupsDue ??= setTimeout(() => {
      groupsDue = undefined;
      broadcast('groups', feed.groups.list());
    }, 300);
  });
  const mgmt = o.management;
  const sessions = mgmt ? new ConsoleSessions(mgmt.tokens, mgmt.sessionTtlMs) : undefined;
  const replays = mgmt ? new ConsoleReplays(s, mgmt.captures, o.directory, (r) => broadcast('replay', r)) : undefined;
  /** The scale request in progress or last done, told to every page (its lines are the fleet's log). */
  let scaling: { target: number; by: string; state: 'running' | 'done' | 'failed'; lines: string[]; members: Array<{ id: string; pid: number }> } | null = null;
  const readOnly = () => new BadRequest(405, 'the console is read-only: management is not enabled (presence run console --manage)');

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
      if (serveOpenApi(req, res, url.pathname, consoleOpenApi)) return;
      if (url.pathname === '/api/session') {
        if (req.method === 'GET') {
          const st = sessions?.session(req);
          return reply(res, 200, { management: !!mgmt, loggedIn: !!st, client: st?.client ?? null, expiresAt: st?.expiresAt ?? null });
        }
        if (!sessions) throw readOnly();
        if (!sameOrigin(req)) throw new BadRequest(403, 'request from another origin refused');
        if (req.method === 'POST') {
          const login = sessions.login(req);
          log(`console: ${login.client.name} logged in`);
          return reply(res, 200, { loggedIn: true, client: login.client.name, expiresAt: login.expiresAt }, { 'set-cookie': login.cookie });
        }
        if (req.method === 'DELETE') {
          sessions.logout(req);
          return reply(res, 200, { loggedIn: false }, { 'set-cookie': clearedCookie });
        }
        throw new BadRequest(405, `method ${req.method} not allowed on /api/session (GET, POST, DELETE)`);
      }
      if (url.pathname === '/api/scale') {
        if (req.method === 'GET') return reply(res, 200, { enabled: !!mgmt?.scale, current: scaling });
        if (req.method !== 'POST') throw new BadRequest(405, `method ${req.method} not allowed on /api/scale (GET, POST)`);
        if (!sessions || !mgmt?.scale) throw readOnly();
        if (!sameOrigin(req)) throw new BadRequest(403, 'request from another origin refused');
        const who = sessions.require(req);
        const body = (await readJson(req)) as { eventManagers?: unknown } | null;
        const target = body?.eventManagers;
        // More members than partitions would idle; the cap also keeps a typo from starting thousands of processes.
        if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target > s.topics.partitions)
          throw new BadRequest(400, `eventManagers must be a whole number from 0 to ${s.topics.partitions} (the partitions), not ${JSON.stringify(target)}`);
        if (scaling?.state === 'running') throw new BadRequest(409, `scaling to ${scaling.target} is still under way`);
        const job: NonNullable<typeof scaling> = { target, by: who.client, state: 'running', lines: [], members: [] };
        scaling = job;
        log(`console: ${who.client} scales the event managers to ${target}`);
        broadcast('scale', job);
        // Stopping members takes a while (a clean leave each): answered at once, progress on the stream.
        void mgmt
          .scale(target, (line) => {
            // One line per member started or stopped; bounded all the same.
            if (job.lines.push(line) > 100) job.lines.shift();
            broadcast('scale', job);
          })
          .then(
            (members) => Object.assign(job, { state: 'done', members }),
            (err: unknown) => Object.assign(job, { state: 'failed', lines: [...job.lines, (err as Error).message] }),
          )
          .finally(() => broadcast('scale', job));
        return reply(res, 202, job);
      }
      if (url.pathname === '/api/replays/current') {
        if (req.method !== 'DELETE') throw new BadRequest(405, `method ${req.method} not allowed on /api/replays/current (DELETE stops it)`);
        if (!sessions || !replays) throw readOnly();
        if (!sameOrigin(req)) throw new BadRequest(403, 'request from another origin refused');
        const who = sessions.require(req);
        if (replays.current?.state !== 'running') throw new BadRequest(409, 'no replay is running');
        log(`console: ${who.client} stops replay ${replays.current.id}`);
        await replays.stop();
        return reply(res, 200, replays.current);
      }
      if (url.pathname === '/api/replays') {
        if (req.method === 'GET')
          return reply(res, 200, {
            enabled: !!replays,
            captures: (replays?.captures ?? []).map((c) => ({ name: c.name, bytes: c.bytes })),
            current: replays?.current ?? null,
          });
        if (req.method !== 'POST') throw new BadRequest(405, `method ${req.method} not allowed on /api/replays (GET, POST)`);
        if (!sessions || !replays) throw readOnly();
        if (!sameOrigin(req)) throw new BadRequest(403, 'request from another origin refused');
        const who = sessions.require(req);
        const body = await readJson(req);
        if (feed.status.kafka !== 'up') return reply(res, 503, { error: kafkaDown() });
        const started = replays.start(parseReplayRequest(body, replays.captures), who.client);
        log(`console: ${who.client} replays ${started.capture} at ${started.speed ?? 'max'}×`);
        return reply(res, 202, started);
      }
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
        for (const done of recentRestores) st.send('restored', done);
        if (feed.lag) st.send('lag', feed.lag);
        st.send('groups', feed.groups.list());
        if (replays?.current) st.send('replay', replays.current);
        if (scaling) st.send('scale', scaling);
        return;
      }
      if (url.pathname === '/api/groups') return reply(res, 200, { groups: feed.groups.list() });
      const grp = /^\/api\/groups\/([^/]+)$/.exec(url.pathname);
      if (grp) {
        const id = decodeURIComponent(grp[1]!);
        const viewer = viewerOf(url.searchParams);
        const answer = feed.groups.view(id, viewer, o.groupPerspective);
        if (answer) return reply(res, 200, answer);
        if (feed.status.kafka !== 'up') return reply(res, 503, { error: kafkaDown() });
        return reply(res, 404, { error: `no group ${id} on ${s.topics.prefix}groups or ${s.topics.prefix}group-presence` });
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
        error: `no such resource ${url.pathname}; the page is at /, the API under /api/ (stream, subscribers/{key}/stream, locate/{identity}, groups, session, replays, healthz)`,
      });
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BadRequest) return reply(res, err.status, { error: err.message });
      if (err instanceof AccessRefused) return reply(res, err.status, { error: err.message }, err.headers);
      if (err instanceof NoSuchRole) return reply(res, 404, { error: err.message });
      if (err instanceof ReplayRequestError) return reply(res, 400, { error: err.message });
      if (err instanceof ReplayBusy) return reply(res, 409, { error: err.message });
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
      clearTimeout(groupsDue);
      offGroups();
      await replays?.stop();
      offStatus();
      offMoves();
      offLag();
      offRestored();
      offMembers();
      // Open event streams never end by themselves: close them so the server can.
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await feed.stop();
    },
  };
}
