// `presence tap hep`: a live HEP collector, the role Homer's heplify-server
// plays for Kamailio/OpenSIPS `siptrace`, heplify and captagent. One UDP
// socket and one TCP server on the same port: HEP v1/v2/v3 one packet per
// datagram on UDP, HEP3 framed back to back on TCP. Every packet goes through
// one SignalingDecoder (so SIP and TCAP transactions correlate across packets
// and agents), then the same resolver → events → publisher path as a replay.
// Bad input becomes a dead letter with its raw bytes; nothing here throws on
// input. When Kafka is slower than the agents, TCP reads pause (the agents'
// own buffers and TCP flow control absorb it) and UDP datagrams are dropped
// and counted, since UDP has no way to slow its sender.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Settings } from '../../config/settings.ts';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { DecodeError } from '../../protocols/decode/layer.ts';
import { decodeHep } from '../../protocols/decode/hep/decode.ts';
import { HepStreamFramer } from '../../protocols/decode/hep/framer.ts';
import type { HepPacket } from '../../protocols/decode/hep/packet.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { signalingEvents } from '../eventBuilder.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import type { DecodedSignal } from '../signal.ts';
import { SignalingDecoder, type DecodeFailure } from '../signalingDecoder.ts';
import { SignalingPublisher } from '../signalingPublisher.ts';
import { SubscriberResolver, type UnknownPolicy } from '../subscriberResolver.ts';

/** What the collector needs of a publisher (SignalingPublisher; tests may pass a slow one). */
export interface TapPublisher {
  readonly stats: { events: number; deadLetters: number };
  connect(): Promise<void>;
  publish(e: SignalingEvent): Promise<void>;
  deadLetter(d: DeadLetter): Promise<void>;
  close(): Promise<void>;
}

export interface HepCollectorOptions {
  /** UDP and TCP port; 0 picks a free port (the same number for both). */
  port: number;
  /** Address to bind; default 127.0.0.1 (only what the user asks for is exposed). */
  host?: string;
  unknown: UnknownPolicy;
  directory?: SubscriberDirectory;
  countryCode?: string;
  /** Signals per directory lookup; a batch is also flushed every `flushMs`. */
  batchSize?: number;
  flushMs?: number;
  /** Records the publisher may have unacknowledged before it makes us wait. */
  maxInFlight?: number;
  /** Decoded items waiting for lookup/publish above which TCP pauses and UDP drops. */
  maxQueued?: number;
  /** First packet number: event ids are `hep:hep:<captureId>:<packet>:<index>:<role>`. Default: start time in µs, so ids of a restarted collector do not repeat earlier ones. */
  firstPacket?: number;
  clientId?: string;
  /** Replaces the Kafka publisher (tests). */
  publisher?: TapPublisher;
  /** A publish failure (Kafka gone past its delivery timeout): the collector stops taking input. */
  onError?: (err: Error) => void;
}

export interface HepCollectorStats {
  /** HEP packets received (UDP datagrams + packets framed out of TCP). */
  packets: number;
  udpPackets: number;
  tcpPackets: number;
  tcpBytes: number;
  /** Signaling messages decoded from the packets. */
  signals: number;
  /** Events handed to the publisher; all acknowledged once stop() returns without lastError. */
  events: number;
  deadLetters: number;
  /** Dead letters by `layer.reason` (hep.malformed, sip.malformed, tcp.garbage ...). */
  deadLettersByReason: Record<string, number>;
  /** Decoded but not signaling we use (e.g. `hep.proto5` RTCP), by what. */
  skipped: Record<string, number>;
  /** UDP datagrams dropped unread: `window-full` (Kafka acks behind by maxInFlight records), `queue-full` (maxQueued items waiting for the directory), `stopped`. */
  udpDropped: Record<string, number>;
  tcpConnections: number;
  tcpOpen: number;
  /** TCP connections closed because their stream was not HEP3 framing. */
  tcpClosedForGarbage: number;
  /** Times a TCP connection was paused for back-pressure. */
  tcpPauses: number;
  /** Items decoded and not yet handed to the publisher. */
  queued: number;
  lastError: string | null;
}

type Item = { kind: 'signal'; sig: DecodedSignal; capture: string } | { kind: 'dead'; d: DeadLetter };

interface PacketContext {
  frame: number;
  timeNs: bigint;
  capture: string;
  origin: string;
  peer: string;
  transport: 'udp' | 'tcp';
}

const MAX_DEAD_RAW = 65_535;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class HepCollector {
  readonly host: string;
  port = 0;
  private readonly publisher: TapPublisher;
  private readonly resolver: SubscriberResolver;
  private readonly decoder: SignalingDecoder;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly counters = {
    packets: 0, udpPackets: 0, tcpPackets: 0, tcpBytes: 0, signals: 0,
    tcpConnections: 0, tcpClosedForGarbage: 0, tcpPauses: 0,
  };
  private readonly deadByReason: Record<string, number> = Object.create(null);
  private readonly udpDropped: Record<string, number> = Object.create(null);
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly paused = new Set<net.Socket>();
  private queue: Item[] = [];
  private queuedSignals = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** True while a publish call waits: it only does when the in-flight window is full. */
  private awaitingPublisher = false;
  private stopped = false;
  private failure: Error | undefined;
  private socketError: string | undefined;
  private nextFrame: number;
  private current: PacketContext | undefined;

  private constructor(s: Settings, private readonly o: HepCollectorOptions) {
    this.host = o.host ?? '127.0.0.1';
    this.batchSize = o.batchSize ?? 500;
    this.flushMs = o.flushMs ?? 50;
    this.maxQueued = o.maxQueued ?? 10_000;
    this.nextFrame = o.firstPacket ?? Date.now() * 1000;
    this.publisher = o.publisher ?? new SignalingPublisher(s, o.clientId ?? `presence-tap-hep-${process.pid}`, o.maxInFlight ?? 20_000);
    this.resolver = new SubscriberResolver(o.directory, o.unknown);
    this.decoder = new SignalingDecoder({ signal: (sig) => this.onSignal(sig), failure: (f) => this.onFailure(f) }, { plan: numberingPlan(s, o.countryCode) });
  }

  /** Connects the publisher, then binds UDP and TCP on `host:port`. */
  static async start(s: Settings, o: HepCollectorOptions): Promise<HepCollector> {
    const c = new HepCollector(s, o);
    await c.publisher.connect();
    try {
      await c.bind();
    } catch (err) {
      await c.publisher.close().catch(() => {});
      throw err;
    }
    return c;
  }

  get stats(): HepCollectorStats {
    return {
      ...this.counters,
      events: this.publisher.stats.events,
      deadLetters: this.publisher.stats.deadLetters,
      deadLettersByReason: { ...this.deadByReason },
      skipped: { ...this.decoder.skipped },
      udpDropped: { ...this.udpDropped },
      tcpOpen: this.sockets.size,
      queued: this.queue.length,
      lastError: this.failure?.message ?? this.socketError ?? null,
    };
  }

  /** The kernel's UDP receive buffer: datagrams beyond it are dropped before we see them (Udp RcvbufErrors in /proc/net/snmp). */
  get udpReceiveBufferBytes(): number {
    try {
      return this.udp?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  private async bind(): Promise<void> {
    const { family } = await lookup(this.host);
    // Port 0: take a free TCP port, then the same number for UDP; another
    // process may hold that UDP port, so try a few times.
    for (let attempt = 0; ; attempt++) {
      const tcp = net.createServer((sock) => this.onConnection(sock));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', (err) => reject(new Error(`cannot listen for HEP on TCP ${this.host}:${this.o.port}: ${err.message}`)));
        tcp.listen({ host: this.host, port: this.o.port }, () => {
          tcp.removeAllListeners('error');
          resolve();
        });
      });
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: this.host, port, exclusive: true }, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        if (this.o.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
        throw new Error(`cannot listen for HEP on UDP ${this.host}:${port}: ${(err as Error).message}`);
      }
      // Socket-level trouble (e.g. EMFILE on accept) is reported, not fatal: the other transport and connections go on.
      tcp.on('error', (err) => (this.socketError = `tcp: ${err.message}`));
      udp.on('error', (err) => (this.socketError = `udp: ${err.message}`));
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      this.tcp = tcp;
      this.udp = udp;
      this.port = port;
      return;
    }
  }

  // ---- input ------------------------------------------------------------

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.stopped || this.failure) return void this.drop('stopped');
    if (this.awaitingPublisher) return void this.drop('window-full');
    if (this.queue.length >= this.maxQueued) return void this.drop('queue-full');
    this.counters.udpPackets++;
    this.packet(msg, 'udp', `${rinfo.address}:${rinfo.port}`);
  }

  private drop(why: string): void {
    this.udpDropped[why] = (this.udpDropped[why] ?? 0) + 1;
  }

  private onConnection(sock: net.Socket): void {
    if (this.stopped) return void sock.destroy();
    this.counters.tcpConnections++;
    this.sockets.add(sock);
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    const framer = new HepStreamFramer();
    // The bytes the framer holds back (a packet split across reads), so a
    // connection that ends mid-packet can dead-letter them.
    let tail = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      this.counters.tcpBytes += chunk.length;
      const resyncs = framer.stats.resyncs;
      const seen = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      for (const p of framer.push(chunk)) {
        this.counters.tcpPackets++;
        this.packet(p, 'tcp', peer);
      }
      tail = framer.pendingBytes ? Buffer.from(seen.subarray(seen.length - framer.pendingBytes)) : Buffer.alloc(0);
      if (framer.stats.resyncs !== resyncs) {
        // Not HEP3 framing (or lost sync): what follows cannot be trusted to
        // be packet boundaries, so this agent is cut off; others go on.
        this.counters.tcpClosedForGarbage++;
        this.enqueueDead('tcp', 'garbage', `stream from ${peer} is not HEP3 framing (${framer.stats.garbageBytes} bytes skipped); connection closed`, seen, `hep:tcp:${peer}`, peer, 'tcp');
        tail = Buffer.alloc(0);
        sock.destroy();
        return;
      }
      if (this.awaitingPublisher || this.queue.length >= this.maxQueued) this.pause(sock);
    });
    sock.on('end', () => {
      if (tail.length) this.enqueueDead('hep', 'truncated', `connection from ${peer} ended inside a HEP3 packet (${tail.length} bytes)`, tail, `hep:tcp:${peer}`, peer, 'tcp');
      tail = Buffer.alloc(0);
    });
    sock.on('error', () => {}); // resets by agents are routine; 'close' follows
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.paused.delete(sock);
    });
  }

  private pause(sock: net.Socket): void {
    if (this.paused.has(sock)) return;
    this.paused.add(sock);
    this.counters.tcpPauses++;
    sock.pause();
  }

  private maybeResume(): void {
    if (this.paused.size === 0 || this.awaitingPublisher || this.queue.length >= this.maxQueued / 2) return;
    for (const s of this.paused) s.resume();
    this.paused.clear();
  }

  /** One HEP packet, from either transport. Never throws. */
  private packet(raw: Buffer, transport: 'udp' | 'tcp', peer: string): void {
    this.counters.packets++;
    const frame = this.nextFrame++;
    let h: HepPacket;
    try {
      h = decodeHep(raw);
    } catch (err) {
      const e = err instanceof DecodeError ? err : new DecodeError('hep', 'malformed', asError(err).message);
      this.enqueueDead(e.layer, e.reason, e.message, raw, `hep:${transport}:${peer}#${frame}`, peer, transport);
      return;
    }
    const capture = `hep:${h.captureId ?? 0}`;
    // HEP v1 has no capture time: arrival time is the best there is.
    const timeNs = h.timeNs || BigInt(Date.now()) * 1_000_000n;
    this.current = { frame, timeNs, capture, origin: `${capture}#${frame}`, peer, transport };
    try {
      this.decoder.decodeHepPacket(h.timeNs ? h : { ...h, timeNs });
    } catch (err) {
      // The decoder turns bad input into failures itself; this is a bug
      // somewhere below it, kept as a dead letter rather than a crash.
      this.enqueueDead('tap', 'malformed', `unexpected ${asError(err).name}: ${asError(err).message}`, h.payload, this.current.origin, peer, transport);
    } finally {
      this.current = undefined;
    }
  }

  // The decoder calls these synchronously inside decodeHepPacket, so
  // `current` is the packet they came from.
  private onSignal(sig: DecodedSignal): void {
    const c = this.current;
    if (!c) return;
    this.counters.signals++;
    sig.frame = c.frame;
    this.queue.push({ kind: 'signal', sig, capture: c.capture });
    this.queuedSignals++;
    this.schedule();
  }

  private onFailure(f: DecodeFailure): void {
    const c = this.current;
    if (!c) return;
    this.enqueueDead(f.layer, f.reason, f.message, f.raw, c.origin, c.peer, c.transport, c.capture, Number(c.timeNs / 1_000_000n));
  }

  private enqueueDead(layer: string, reason: string, message: string, raw: Buffer, origin: string, peer: string, transport: string, capture = 'hep', time = Date.now()): void {
    const key = `${layer}.${reason}`;
    this.deadByReason[key] = (this.deadByReason[key] ?? 0) + 1;
    const bytes = Buffer.from(raw.subarray(0, MAX_DEAD_RAW));
    this.queue.push({ kind: 'dead', d: deadLetter('tap', layer, reason, message, bytes, origin, { tap: 'hep', capture, peer, transport }, time) });
    this.schedule();
  }

  // ---- output -----------------------------------------------------------

  private schedule(): void {
    if (this.stopped) return; // stop() drives the last flushes itself
    if (this.queuedSignals >= this.batchSize) return void this.kick();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.flushMs);
  }

  private kick(): void {
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // Items that arrived during the last await get their own timer.
      if (this.queue.length && !this.failure) this.schedule();
    });
  }

  /** Publishes the queue in order, a directory lookup per batch of signals. */
  private async pump(): Promise<void> {
    while (this.queue.length && !this.failure) {
      let n = 0;
      let signals = 0;
      while (n < this.queue.length && signals < this.batchSize) if (this.queue[n++]!.kind === 'signal') signals++;
      const batch = this.queue.splice(0, n);
      this.queuedSignals -= signals;
      try {
        await this.resolver.prepare(batch.flatMap((b) => (b.kind === 'signal' ? [b.sig] : [])));
        for (const b of batch) {
          this.awaitingPublisher = true;
          try {
            if (b.kind === 'dead') await this.publisher.deadLetter(b.d);
            else for (const e of signalingEvents(b.sig, { tap: 'hep', capture: b.capture }, this.resolver.keyOf)) await this.publisher.publish(e);
          } finally {
            this.awaitingPublisher = false;
          }
          this.maybeResume();
        }
      } catch (err) {
        this.recordError(err);
        return;
      }
      this.maybeResume();
    }
  }

  private recordError(err: unknown): void {
    if (this.failure) return;
    this.failure = asError(err);
    // Readers would otherwise stay paused forever: close them (agents reconnect).
    for (const s of this.sockets) s.destroy();
    this.o.onError?.(this.failure);
  }

  /** Stops listening, publishes what was received, waits for Kafka's acknowledgements, closes. */
  async stop(): Promise<HepCollectorStats> {
    if (!this.stopped) {
      this.stopped = true;
      for (const s of this.sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
        new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      ]);
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      while (this.queue.length && !this.failure) {
        this.kick();
        await this.pumping;
      }
      await this.pumping;
      try {
        await this.publisher.close();
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
  const kv = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ');
  const dropped = Object.values(st.udpDropped).reduce((a, b) => a + b, 0);
  return (
    `packets ${st.packets} (udp ${st.udpPackets}, tcp ${st.tcpPackets} on ${st.tcpOpen} open/${st.tcpConnections} connections), signals ${st.signals}, events ${st.events}, ` +
    `dead letters ${st.deadLetters}${st.deadLetters ? ` (${kv(st.deadLettersByReason)})` : ''}, queued ${st.queued}, tcp pauses ${st.tcpPauses}` +
    `${dropped ? `, udp dropped ${dropped} (${kv(st.udpDropped)})` : ''}${st.tcpClosedForGarbage ? `, tcp closed for garbage ${st.tcpClosedForGarbage}` : ''}` +
    `${st.lastError ? `, error: ${st.lastError}` : ''}`
  );
}
