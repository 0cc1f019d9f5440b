// `presence tap hep`: the HEP input (UDP and TCP on one port, TLS optionally
// on another) wired to the
// taps pipeline, running until stopped. One pipeline run for all agents, so
// SIP and TCAP transactions correlate across packets and agents. Stats are
// the input's (packets, drops, pauses) and the pipeline's (signals, events,
// dead letters).
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import type { UnknownPolicy } from '../subscriberResolver.ts';
import { TapPipeline, type TapPublisher } from '../pipeline/tapPipeline.ts';
import { HepInput, type HepInputOptions, type HepInputStats } from './hepInput.ts';

export type { TapPublisher };

export interface HepCollectorOptions extends HepInputOptions {
  unknown: UnknownPolicy;
  directory?: SubscriberDirectory;
  countryCode?: string;
  /** Signals per directory lookup (also the input's packets per batch); a batch is also flushed every `flushMs`. */
  batchSize?: number;
  /** Records the publisher may have unacknowledged before it makes us wait. */
  maxInFlight?: number;
  /** The tap instance's stable id (its transactional id: a restart fences its predecessor); default host and pid. */
  clientId?: string;
  /** Replaces the Kafka publisher (tests). */
  publisher?: TapPublisher;
  /** A publish failure (Kafka gone past its delivery timeout): the collector stops taking input. */
  onError?: (err: Error) => void;
}

/** The HEP input's socket counters (hepInput.ts) plus what the pipeline did with the packets. */
export interface HepCollectorStats extends Omit<HepInputStats, 'socketError'> {
  /** Signaling messages decoded from the packets. */
  signals: number;
  /** Events handed to the publisher; all acknowledged once stop() returns without lastError. */
  events: number;
  deadLetters: number;
  /** Dead letters by `layer.reason` (hep.malformed, sip.malformed, tcp.garbage ...). */
  deadLettersByReason: Record<string, number>;
  /** Decoded but not signaling we use (e.g. `hep.proto5` RTCP), by what. */
  skipped: Record<string, number>;
  lastError: string | null;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class HepCollector {
  private readonly input: HepInput;
  private readonly pipeline: TapPipeline;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private failure: Error | undefined;

  private constructor(
    s: Settings,
    private readonly o: HepCollectorOptions,
  ) {
    this.input = new HepInput(o);
    this.pipeline = new TapPipeline(s, {
      tap: 'hep',
      unknown: o.unknown,
      directory: o.directory,
      countryCode: o.countryCode,
      batchSize: o.batchSize ?? 500,
      clientId: o.clientId ?? `presence-tap-hep-${os.hostname()}-${process.pid}`,
      maxInFlight: o.maxInFlight ?? 20_000,
      publisher: o.publisher,
    });
  }

  /** Connects the publisher, then binds UDP and TCP on `host:port` (and TLS on its port when configured). */
  static async start(s: Settings, o: HepCollectorOptions): Promise<HepCollector> {
    const c = new HepCollector(s, o);
    await c.pipeline.connect();
    try {
      await c.input.open();
    } catch (err) {
      await c.pipeline.close().catch(() => {});
      throw err;
    }
    c.running = c.pipeline.run(c.input).catch((err) => c.recordError(err));
    return c;
  }

  get host(): string {
    return this.input.host;
  }

  get port(): number {
    return this.input.port;
  }

  /** The HEP-over-TLS listener's port; 0 without one. */
  get tlsPort(): number {
    return this.input.tlsPort;
  }

  get udpReceiveBufferBytes(): number {
    return this.input.udpReceiveBufferBytes;
  }

  get stats(): HepCollectorStats {
    const { socketError, ...input } = this.input.stats;
    const p = this.pipeline.summary;
    return {
      ...input,
      signals: p.signals,
      events: p.events,
      deadLetters: p.deadLetters,
      deadLettersByReason: p.deadLettersByReason,
      skipped: p.skipped,
      lastError: this.failure?.message ?? socketError,
    };
  }

  private recordError(err: unknown): void {
    if (this.failure) return;
    this.failure = asError(err);
    this.input.fail();
    this.o.onError?.(this.failure);
  }

  /** Stops listening, publishes what was received, waits for Kafka's acknowledgements, closes. */
  async stop(): Promise<HepCollectorStats> {
    if (!this.stopped) {
      this.stopped = true;
      await this.input.close();
      await this.running;
      try {
        await this.pipeline.close();
      } catch (err) {
        this.recordError(err);
      }
    }
    return this.stats;
  }
}

export function startHepCollector(s: Settings, o: HepCollectorOptions): Promise<HepCollector> {
  return HepCollector.start(s, o);
}

/** One line of counters for logs. */
export function formatHepStats(st: HepCollectorStats): string {
  const kv = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const dropped = Object.values(st.udpDropped).reduce((a, b) => a + b, 0);
  const unauthenticated = Object.values(st.unauthenticated).reduce((a, b) => a + b, 0);
  const tlsRefused = Object.values(st.tlsRefused).reduce((a, b) => a + b, 0);
  const tlsPart = st.tlsConnections || tlsRefused ? `, tls ${st.tlsPackets} on ${st.tlsConnections} connections` : '';
  return (
    `packets ${st.packets} (udp ${st.udpPackets}, tcp ${st.tcpPackets} on ${st.tcpOpen} open/${st.tcpConnections} connections${tlsPart}), signals ${st.signals}, events ${st.events}, ` +
    `dead letters ${st.deadLetters}${st.deadLetters ? ` (${kv(st.deadLettersByReason)})` : ''}, queued ${st.queued}, tcp pauses ${st.tcpPauses}` +
    `${dropped ? `, udp dropped ${dropped} (${kv(st.udpDropped)})` : ''}${st.tcpClosedForGarbage ? `, tcp closed for garbage ${st.tcpClosedForGarbage}` : ''}` +
    `${tlsRefused ? `, tls refused ${tlsRefused} (${kv(st.tlsRefused)})` : ''}` +
    `${unauthenticated ? `, unauthenticated ${unauthenticated} (${kv(st.unauthenticated)})` : ''}${st.lastError ? `, error: ${st.lastError}` : ''}`
  );
}
