// Replay from the page: one capture at a time, chosen by name from a fixed
// list (the project's generated fixtures and the captures under a configured
// directory, listed when the console starts), so no path from a request ever
// reaches the file system. It runs the taps pipeline `presence replay` runs,
// inside the console, and its own counters (frames, decoded messages by
// protocol and message, events published, subscribers not ours, dead letters)
// are the tap's rates the page shows: what the tap saw, not only what reached
// signaling-events.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { captureInput } from '../../taps/inputs/captureInput.ts';
import { TapPipeline, type TapSummary } from '../../taps/pipeline/tapPipeline.ts';
import type { UnknownPolicy } from '../../taps/subscriberResolver.ts';
import type { TapInput } from '../../taps/pipeline/tapInput.ts';

export interface Capture {
  /** What the page shows and sends back: `fixtures/map-m3ua.pcap`, `captures/x.pcapng`. */
  name: string;
  file: string;
  bytes: number;
}

const CAPTURE = /\.(pcap|pcapng|cap|netmon|pcap\.gz|pcapng\.gz)$/i;
/** Replays run N× the capture's pace up to this, or as fast as possible ("max"). */
export const MAX_SPEED = 1000;

/** Captures directly in each directory (no recursion: a configured directory is a shelf, not a tree to walk). */
export function listCaptures(dirs: Array<{ label: string; dir: string }>): Capture[] {
  const out: Capture[] = [];
  for (const { label, dir } of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // a missing directory offers nothing; the page says so by its empty list
    }
    for (const n of names.sort()) {
      if (!CAPTURE.test(n)) continue;
      const file = path.join(dir, n);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ name: `${label}/${n}`, file, bytes: st.size });
    }
  }
  return out;
}

export class ReplayRequestError extends Error {}

/** Parses the page's request body: { capture, speed: number | "max", unknown?: drop | keep }. */
export function parseReplayRequest(body: unknown, captures: readonly Capture[]): { capture: Capture; speed: number; unknown: UnknownPolicy | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ReplayRequestError('expected a JSON object {capture, speed, unknown?}');
  const b = body as Record<string, unknown>;
  const capture = captures.find((c) => c.name === b.capture);
  if (!capture)
    throw new ReplayRequestError(`capture must be one of ${captures.map((c) => c.name).join(', ') || '(none offered)'}, not ${JSON.stringify(b.capture)}`);
  const speed = b.speed === 'max' ? Infinity : b.speed === undefined ? 1 : Number(b.speed);
  if (!(speed > 0) || (speed !== Infinity && speed > MAX_SPEED))
    throw new ReplayRequestError(`speed must be a number above 0 and at most ${MAX_SPEED}, or "max", not ${JSON.stringify(b.speed)}`);
  if (b.unknown !== undefined && b.unknown !== 'drop' && b.unknown !== 'keep')
    throw new ReplayRequestError(`unknown must be drop or keep, not ${JSON.stringify(b.unknown)}`);
  return { capture, speed, unknown: b.unknown as UnknownPolicy | undefined };
}

export interface ReplayStatus {
  id: number;
  capture: string;
  /** Multiple of the capture's pace; null: as fast as possible. */
  speed: number | null;
  by: string;
  state: 'running' | 'done' | 'failed' | 'stopped';
  startedAt: number;
  endedAt: number | null;
  error: string | null;
  frames: number;
  /** Messages the tap decoded, by `protocol message` (before the subscriber check). */
  byMessage: Record<string, number>;
  events: number;
  deadLetters: number;
  notSubscriber: number;
}

export class ReplayBusy extends Error {}

export class ConsoleReplays {
  current: ReplayStatus | null = null;
  private nextId = 1;

  constructor(
    private readonly s: Settings,
    readonly captures: readonly Capture[],
    private readonly directory: SubscriberDirectory | undefined,
    private readonly onChange: (r: ReplayStatus) => void,
    private readonly everyMs = 500,
  ) {}

  /** Starts a replay unless one runs (ReplayBusy); progress goes to onChange every half second and at the end. */
  start(req: { capture: Capture; speed: number; unknown: UnknownPolicy | undefined }, by: string): ReplayStatus {
    if (this.current?.state === 'running') throw new ReplayBusy(`replay ${this.current.id} of ${this.current.capture} is still running`);
    const status: ReplayStatus = {
      id: this.nextId++,
      capture: req.capture.name,
      speed: req.speed === Infinity ? null : req.speed,
      by,
      state: 'running',
      startedAt: Date.now(),
      endedAt: null,
      error: null,
      frames: 0,
      byMessage: {},
      events: 0,
      deadLetters: 0,
      notSubscriber: 0,
    };
    this.current = status;
    const pipeline = new TapPipeline(this.s, {
      tap: 'console-replay',
      unknown: req.unknown ?? this.s.identity.unknownSubscribers,
      speed: req.speed,
      clientId: `presence-console-replay-${process.pid}`,
      ...(this.directory ? { directory: this.directory } : {}),
    });
    const copy = (sum: TapSummary) =>
      Object.assign(status, {
        frames: sum.frames,
        byMessage: sum.byMessage,
        events: sum.events,
        deadLetters: sum.deadLetters,
        notSubscriber: sum.notSubscriber,
      });
    const timer = setInterval(() => this.onChange(copy(pipeline.summary)), this.everyMs);
    this.onChange(status);
    const stop = new AbortController();
    this.stopCurrent = () => stop.abort();
    this.running = (async () => {
      try {
        await pipeline.connect();
        await pipeline.run(stoppable(captureInput(req.capture.file), stop.signal));
        await pipeline.drain();
        status.state = stop.signal.aborted ? 'stopped' : 'done';
      } catch (err) {
        status.state = 'failed';
        status.error = (err as Error).message;
      } finally {
        clearInterval(timer);
        await pipeline.close().catch(() => {});
        copy(pipeline.summary);
        status.endedAt = Date.now();
        this.onChange(status);
      }
    })();
    return status;
  }

  private running: Promise<void> = Promise.resolve();
  private stopCurrent: () => void = () => {};

  /** Stops a running replay after the batch in hand (what was read is still published); resolves when it has ended. */
  stop(): Promise<void> {
    this.stopCurrent();
    return this.running;
  }
}

/** The input, ending early once `signal` aborts: a paced replay of a long capture must not hold the console's stop for minutes. */
function stoppable(input: TapInput, signal: AbortSignal): TapInput {
  const batches = input.batches;
  return {
    ...input,
    batches: (async function* () {
      for await (const b of batches) {
        if (signal.aborted) return;
        yield b;
      }
    })(),
  };
}
