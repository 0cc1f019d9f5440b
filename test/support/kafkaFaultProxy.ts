// A loopback proxy in front of a single Kafka broker that speaks just enough of
// the protocol to put a client into the failure states a broker crash leaves it
// in, at exactly the moment a test wants, instead of hoping a SIGKILL lands there:
//  - `loseAck`: the next Produce to a partition reaches the broker (the records are
//    in the log) but its answer never reaches the client — as when the broker dies
//    after appending and before answering;
//  - `reject`: the next Produce to a partition is corrupted on its way (the broker
//    refuses it, nothing is appended) and its answer carries the error code given
//    (e.g. UNKNOWN_PRODUCER_ID, which a restarted broker answers when it lost the
//    producer's state) instead of the broker's CORRUPT_MESSAGE;
//  - `cutClients`: every client connection is reset (held answers are lost).
// Broker addresses in Metadata and FindCoordinator answers are rewritten to the
// proxy's, so the client never goes around it. Only the versions librdkafka 2.x
// uses against Kafka 4 are parsed (flexible Produce v9+ and Metadata v9+,
// FindCoordinator v0–v2); anything else throws, so a test cannot pass by not
// injecting its fault.
import net from 'node:net';

/** Kafka's UNKNOWN_PRODUCER_ID error code: what a restarted broker answers when it lost the producer's state. */
export const UNKNOWN_PRODUCER_ID = 59;

const PRODUCE = 0;
const METADATA = 3;
const FIND_COORDINATOR = 10;

export interface ProduceTarget {
  readonly topic: string;
  readonly partition: number;
}

/** One armed fault: resolves `seen` when its request passed, `answered` when its answer was dealt with (dropped or rewritten and delivered). */
export interface Fault {
  readonly seen: Promise<void>;
  readonly answered: Promise<void>;
}

interface Rule {
  readonly target: ProduceTarget;
  readonly kind: 'lose-ack' | 'reject';
  readonly errorCode: number;
  used: boolean;
  seen: () => void;
  answered: () => void;
}

type Plan = { kind: 'drop'; rule: Rule } | { kind: 'rewrite'; rule: Rule } | { kind: 'pass'; apiKey: number; apiVersion: number };

export interface KafkaFaultProxy {
  /** host:port for the client's bootstrap list. */
  readonly brokers: string;
  loseAck(target: ProduceTarget): Fault;
  reject(target: ProduceTarget, errorCode: number): Fault;
  cutClients(): void;
  close(): Promise<void>;
}

/** Reads one length-prefixed frame off `buf`, or undefined when it is not complete yet. */
function takeFrame(buf: { data: Buffer }): Buffer | undefined {
  if (buf.data.length < 4) return undefined;
  const size = buf.data.readInt32BE(0);
  if (buf.data.length < 4 + size) return undefined;
  const frame = buf.data.subarray(0, 4 + size);
  buf.data = buf.data.subarray(4 + size);
  return frame;
}

/** A cursor over a frame: the few reads the rewrites need, and where it is (to write in place). */
class Cursor {
  constructor(
    private readonly b: Buffer,
    public position: number,
  ) {}
  int16(): number {
    const v = this.b.readInt16BE(this.position);
    this.position += 2;
    return v;
  }
  int32(): number {
    const v = this.b.readInt32BE(this.position);
    this.position += 4;
    return v;
  }
  uvarint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.b.readUInt8(this.position++);
      v += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return v;
    }
  }
  skip(n: number): void {
    if (n < 0 || this.position + n > this.b.length)
      throw new Error(`kafkaFaultProxy: a frame shorter than its fields (${n} bytes at ${this.position} of ${this.b.length})`);
    this.position += n;
  }
  bytes(n: number): Buffer {
    const at = this.position;
    this.skip(n);
    return this.b.subarray(at, at + n);
  }
}

/** Skips a flexible structure's tagged fields. */
function skipTags(r: Cursor): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

function compactString(r: Cursor): string {
  const n = r.uvarint();
  return n === 0 ? '' : r.bytes(n - 1).toString('utf8');
}

/** Produce v9+: where each partition's records are in the frame. */
function producePartitions(frame: Buffer, apiVersion: number): Array<ProduceTarget & { recordsEnd: number }> {
  if (apiVersion < 9) throw new Error(`kafkaFaultProxy parses flexible Produce (v9+), the client sent v${apiVersion}`);
  const r = new Cursor(frame, 4 + 8);
  r.skip(Math.max(0, r.int16())); // client id: a classic nullable string, even in header v2
  skipTags(r);
  r.skip(Math.max(0, r.uvarint() - 1)); // transactional id
  r.int16(); // acks
  r.int32(); // timeout
  const out: Array<ProduceTarget & { recordsEnd: number }> = [];
  for (let t = r.uvarint() - 1; t > 0; t--) {
    const topic = compactString(r);
    for (let p = r.uvarint() - 1; p > 0; p--) {
      const partition = r.int32();
      const len = r.uvarint() - 1;
      r.skip(Math.max(0, len));
      out.push({ topic, partition, recordsEnd: r.position });
      skipTags(r);
    }
    skipTags(r);
  }
  return out;
}

/** Produce v9+ answer: the first partition's error code is rewritten in place (librdkafka sends one partition per request). */
function rewriteProduceError(frame: Buffer, errorCode: number): void {
  const r = new Cursor(frame, 4 + 4);
  skipTags(r); // response header v1
  if (r.uvarint() - 1 < 1) throw new Error('kafkaFaultProxy: a Produce answer without a topic');
  compactString(r);
  if (r.uvarint() - 1 < 1) throw new Error('kafkaFaultProxy: a Produce answer without a partition');
  r.int32();
  frame.writeInt16BE(errorCode, r.position);
}

/** Metadata v9+: every broker's port becomes the proxy's (same length: rewritten in place). */
function rewriteMetadataPorts(frame: Buffer, apiVersion: number, port: number): void {
  if (apiVersion < 9) throw new Error(`kafkaFaultProxy parses flexible Metadata (v9+), the client sent v${apiVersion}`);
  const r = new Cursor(frame, 4 + 4);
  skipTags(r);
  r.int32(); // throttle
  for (let b = r.uvarint() - 1; b > 0; b--) {
    r.int32(); // node id
    compactString(r);
    frame.writeInt32BE(port, r.position);
    r.int32();
    r.skip(Math.max(0, r.uvarint() - 1)); // rack
    skipTags(r);
  }
}

/** FindCoordinator v0–v2 (what librdkafka sends): the coordinator's port becomes the proxy's. */
function rewriteCoordinatorPort(frame: Buffer, apiVersion: number, port: number): void {
  if (apiVersion > 2) throw new Error(`kafkaFaultProxy parses FindCoordinator v0–v2, the client sent v${apiVersion}`);
  const r = new Cursor(frame, 4 + 4);
  if (apiVersion >= 1) r.int32(); // throttle
  r.int16(); // error
  if (apiVersion >= 1) {
    const n = r.int16();
    if (n > 0) r.skip(n);
  }
  r.int32(); // node id
  r.skip(r.int16());
  frame.writeInt32BE(port, r.position);
}

export async function startKafkaFaultProxy(upstream: string, port: number): Promise<KafkaFaultProxy> {
  const [host, upstreamPort] = [upstream.split(':')[0]!, Number(upstream.split(':')[1])];
  const rules: Rule[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const broker = net.connect({ host, port: upstreamPort });
    sockets.add(client).add(broker);
    const plans = new Map<number, Plan>();
    const fromClient = { data: Buffer.alloc(0) };
    const fromBroker = { data: Buffer.alloc(0) };
    const drop = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on('error', drop).on('close', drop);
    broker.on('error', drop).on('close', drop);

    client.on('data', (chunk) => {
      fromClient.data = Buffer.concat([fromClient.data, chunk]);
      for (let frame = takeFrame(fromClient); frame; frame = takeFrame(fromClient)) {
        const apiKey = frame.readInt16BE(4);
        const apiVersion = frame.readInt16BE(6);
        const correlationId = frame.readInt32BE(8);
        let plan: Plan = { kind: 'pass', apiKey, apiVersion };
        if (apiKey === PRODUCE) {
          for (const part of producePartitions(frame, apiVersion)) {
            const rule = rules.find((x) => !x.used && x.target.topic === part.topic && x.target.partition === part.partition);
            if (!rule) continue;
            rule.used = true;
            if (rule.kind === 'reject') {
              // The record batch's CRC no longer matches: the broker appends nothing.
              frame.writeUInt8(frame.readUInt8(part.recordsEnd - 1) ^ 0xff, part.recordsEnd - 1);
              plan = { kind: 'rewrite', rule };
            } else plan = { kind: 'drop', rule };
            rule.seen();
          }
        }
        plans.set(correlationId, plan);
        broker.write(frame);
      }
    });

    broker.on('data', (chunk) => {
      fromBroker.data = Buffer.concat([fromBroker.data, chunk]);
      for (let frame = takeFrame(fromBroker); frame; frame = takeFrame(fromBroker)) {
        const correlationId = frame.readInt32BE(4);
        const plan = plans.get(correlationId);
        plans.delete(correlationId);
        if (plan?.kind === 'drop') {
          plan.rule.answered();
          continue;
        }
        if (plan?.kind === 'rewrite') rewriteProduceError(frame, plan.rule.errorCode);
        else if (plan?.apiKey === METADATA) rewriteMetadataPorts(frame, plan.apiVersion, port);
        else if (plan?.apiKey === FIND_COORDINATOR) rewriteCoordinatorPort(frame, plan.apiVersion, port);
        client.write(frame);
        if (plan?.kind === 'rewrite') plan.rule.answered();
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));

  const arm = (target: ProduceTarget, kind: Rule['kind'], errorCode: number): Fault => {
    let seen!: () => void;
    let answered!: () => void;
    const fault = { seen: new Promise<void>((r) => (seen = r)), answered: new Promise<void>((r) => (answered = r)) };
    rules.push({ target, kind, errorCode, used: false, seen, answered });
    return fault;
  };

  return {
    brokers: `127.0.0.1:${port}`,
    loseAck: (target) => arm(target, 'lose-ack', 0),
    reject: (target, errorCode) => arm(target, 'reject', errorCode),
    cutClients: () => {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
