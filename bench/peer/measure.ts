// What one scenario run measured, read from the two message logs in SIPp's
// -trace_msg format (tools/sipp/sippTrace.ts): the SIPp publishers' (PUBLISH answers, latency,
// retransmissions) and the Node watchers' (SUBSCRIBE answers and
// retransmissions, NOTIFYs, and each dialog's last NOTIFY against the final
// state). Nothing here trusts either system's own counters.
import { headerOf, parseSippMessageTrace } from '../../tools/sipp/sippTrace.ts';
import { tupleId } from './scenarios.ts';

export interface Measured {
  readonly publish: {
    readonly offered: number;
    readonly answered: number;
    /** Answered with a non-2xx final response, or not at all. */
    readonly failed: number;
    readonly retransmissions: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    /** First PUBLISH sent → last final answer. */
    readonly seconds: number;
  };
  readonly subscribe: { readonly offered: number; readonly answered: number; readonly retransmissions: number };
  readonly notify: {
    readonly received: number;
    /** Every dialog: its first NOTIFY, and one per publication of its presentity. */
    readonly expected: number;
    readonly retransmissions: number;
    readonly peakPerSecond: number;
    readonly meanPerSecond: number;
    readonly largestBodyBytes: number;
  };
  /** Dialogs whose last NOTIFY (highest CSeq) lacks a publication of their presentity, or that got none. */
  readonly staleWatchers: number;
  /** No PUBLISH failed, every SUBSCRIBE answered, every expected NOTIFY received, no stale watcher. */
  readonly lossFree: boolean;
}

type Traced = ReturnType<typeof parseSippMessageTrace>[number];

/** SIPp's trace time (local, microseconds) in epoch ms. */
const timeMs = (m: Traced) => {
  const [date, clock = ''] = m.time.split(' ');
  return Date.parse(`${date}T${clock.slice(0, 12)}`) + Number(`0.${clock.slice(13) || '0'}`);
};
const branchOf = (m: Traced) => /;\s*branch=([^;,\s]+)/i.exec(headerOf(m, 'Via', 'v') ?? '')?.[1] ?? '';
const callIdOf = (m: Traced) => headerOf(m, 'Call-ID', 'i') ?? '';
const cseqOf = (m: Traced) => headerOf(m, 'CSeq') ?? '';
const userOf = (uri: string) => /^[A-Z]+ sips?:([^@;> ]+)@/.exec(uri)?.[1] ?? '';
const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Requests of one method this side sent: per call, its user (from the Request-URI), first send time and copies sent. */
function sentRequests(messages: readonly Traced[], method: string): Map<string, { user: string; firstAt: number; copies: number }> {
  const calls = new Map<string, { user: string; firstAt: number; copies: number }>();
  for (const m of messages) {
    if (m.direction !== 'sent' || !m.startLine.startsWith(`${method} `)) continue;
    const id = callIdOf(m);
    const c = calls.get(id);
    if (c) c.copies++;
    else calls.set(id, { user: userOf(m.startLine), firstAt: timeMs(m), copies: 1 });
  }
  return calls;
}

/** The first final response per call to the method, with its time. */
function finalResponses(messages: readonly Traced[], method: string): Map<string, { status: number; at: number }> {
  const out = new Map<string, { status: number; at: number }>();
  for (const m of messages) {
    if (m.direction !== 'received' || !m.startLine.startsWith('SIP/2.0 ') || !cseqOf(m).endsWith(` ${method}`)) continue;
    const status = Number(m.startLine.split(' ')[1]);
    if (status >= 200 && !out.has(callIdOf(m))) out.set(callIdOf(m), { status, at: timeMs(m) });
  }
  return out;
}

export function measure(o: { watcherTrace: Buffer; publisherTrace: Buffer; publicationsEach: number }): Measured {
  const pubMessages = parseSippMessageTrace(o.publisherTrace);
  const publishes = sentRequests(pubMessages, 'PUBLISH');
  const pubAnswers = finalResponses(pubMessages, 'PUBLISH');
  const latencies: number[] = [];
  let lastAnswer = 0;
  let firstPublish = Infinity;
  for (const [id, p] of publishes) {
    firstPublish = Math.min(firstPublish, p.firstAt);
    const a = pubAnswers.get(id);
    if (a && a.status < 300) {
      latencies.push(a.at - p.firstAt);
      lastAnswer = Math.max(lastAnswer, a.at);
    }
  }
  latencies.sort((a, b) => a - b);

  const watchMessages = parseSippMessageTrace(o.watcherTrace);
  const subscribes = sentRequests(watchMessages, 'SUBSCRIBE');
  const subAnswers = finalResponses(watchMessages, 'SUBSCRIBE');
  const seen = new Set<string>();
  const last = new Map<string, { cseq: number; body: string }>();
  const times: number[] = [];
  let notifyCopies = 0;
  let largestBody = 0;
  for (const m of watchMessages) {
    if (m.direction !== 'received' || !m.startLine.startsWith('NOTIFY ')) continue;
    notifyCopies++;
    const id = callIdOf(m);
    const cseq = parseInt(cseqOf(m), 10);
    const key = `${id}\u0000${cseq}\u0000${branchOf(m)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    times.push(timeMs(m));
    largestBody = Math.max(largestBody, Buffer.byteLength(m.body));
    const prev = last.get(id);
    if (!prev || cseq > prev.cseq) last.set(id, { cseq, body: m.body });
  }
  let stale = 0;
  for (const [id, s] of subscribes) {
    const body = last.get(id)?.body ?? '';
    for (let k = 1; k <= o.publicationsEach; k++)
      if (!body.includes(`id="${tupleId(s.user, k)}"`)) {
        stale++;
        break;
      }
  }
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  const span = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : 1;

  const answered = [...pubAnswers.values()].filter((a) => a.status < 300).length;
  const subscribed = [...subAnswers.values()].filter((a) => a.status < 300).length;
  const expected = subscribes.size * (1 + o.publicationsEach);
  const sum = (m: Map<string, { copies: number }>) => [...m.values()].reduce((n, c) => n + c.copies, 0);
  const measured: Omit<Measured, 'lossFree'> = {
    publish: {
      offered: publishes.size,
      answered,
      failed: publishes.size - answered,
      retransmissions: sum(publishes) - publishes.size,
      p50Ms: Math.round(pct(latencies, 50) * 10) / 10,
      p99Ms: Math.round(pct(latencies, 99) * 10) / 10,
      seconds: Math.round((lastAnswer - firstPublish) / 10) / 100,
    },
    subscribe: { offered: subscribes.size, answered: subscribed, retransmissions: sum(subscribes) - subscribes.size },
    notify: {
      received: seen.size,
      expected,
      retransmissions: notifyCopies - seen.size,
      peakPerSecond: Math.max(0, ...perSecond.values()),
      meanPerSecond: Math.round(seen.size / Math.max(span, 1)),
      largestBodyBytes: largestBody,
    },
    staleWatchers: stale,
  };
  const lossFree =
    measured.publish.failed === 0 &&
    measured.subscribe.answered === measured.subscribe.offered &&
    measured.notify.received >= expected &&
    stale === 0 &&
    publishes.size > 0;
  return { ...measured, lossFree };
}
