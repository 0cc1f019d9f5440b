// IncrementalAlterConfigs (KIP-339, API key 44, v0) for topic configs: sets
// the named keys and leaves every other setting of the topic as it is, so
// `topics apply` can fix the keys we own without wiping what an operator set.
// The non-incremental AlterConfigs replaces a resource's whole config, and
// neither kafkajs 2.2 nor node-rdkafka's admin client offers the incremental
// request, so it is sent here over its own connection: one request, one
// answer, no pipelining (v0 is not a flexible version: plain int16/int32
// lengths). Plaintext only, as every other admin client of the gateway.
import { Socket } from 'node:net';

const API_KEY = 44;
const API_VERSION = 0;
const RESOURCE_TOPIC = 2;
const OP_SET = 0;

/** Error codes of the answer (Kafka's protocol error table), by the names kafkajs uses so retry checks match them. */
const ERROR_NAMES: Record<number, string> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  40: 'INVALID_CONFIG',
  41: 'NOT_CONTROLLER',
  42: 'INVALID_REQUEST',
  44: 'POLICY_VIOLATION',
};

export interface TopicConfigChange {
  topic: string;
  /** Keys to set; keys not named keep their current value. */
  set: Record<string, string>;
}

/** A resource the broker refused, with Kafka's error name in `type` (as kafkajs errors carry it). */
export class AlterConfigsError extends Error {
  constructor(
    readonly topic: string,
    readonly type: string,
    detail: string | null,
  ) {
    super(`altering the config of ${topic} failed: ${type}${detail ? ` (${detail})` : ''}`);
    this.name = 'AlterConfigsError';
  }
}

export interface IncrementalAlterOptions {
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  clientId?: string;
}

/**
 * Sets the given keys on the topics, nothing else. Any broker takes the
 * request (KRaft forwards it to the controller). Refused topics fail the call
 * with an AggregateError of AlterConfigsError; a topic accepted in the same
 * request stays altered.
 */
export async function incrementalAlterTopicConfigs(brokers: string, changes: TopicConfigChange[], opts: IncrementalAlterOptions = {}): Promise<void> {
  if (changes.length === 0) return;
  const request = encodeRequest(changes, opts.clientId ?? 'presence-cli');
  const list = brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  let lastError: unknown;
  for (const broker of list) {
    let answer: Buffer;
    try {
      answer = await exchange(broker, request, opts.connectionTimeoutMs ?? 3_000, opts.requestTimeoutMs ?? 10_000);
    } catch (e) {
      lastError = e; // next bootstrap broker
      continue;
    }
    const refused = decodeResponse(answer);
    if (refused.length > 0) throw new AggregateError(refused, refused.map((r) => r.message).join('; '));
    return;
  }
  throw new Error(`no broker of ${brokers} answered IncrementalAlterConfigs (it needs Kafka 2.3 or later)`, { cause: lastError });
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function str(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([int16(body.length), body]);
}

/** Request header v1 (api key, version, correlation id, client id), then the v0 body; size-prefixed. */
function encodeRequest(changes: TopicConfigChange[], clientId: string): Buffer {
  const parts: Buffer[] = [int16(API_KEY), int16(API_VERSION), int32(1), str(clientId), int32(changes.length)];
  for (const c of changes) {
    const entries = Object.entries(c.set);
    parts.push(Buffer.from([RESOURCE_TOPIC]), str(c.topic), int32(entries.length));
    for (const [name, value] of entries) parts.push(str(name), Buffer.from([OP_SET]), str(value));
  }
  parts.push(Buffer.from([0])); // validate_only = false
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length), body]);
}

/** Response header v0 (correlation id), throttle time, then per resource: error code, message, type, name. */
function decodeResponse(buf: Buffer): AlterConfigsError[] {
  let at = 8; // correlation id, throttle_time_ms
  const readStr = (): string | null => {
    const len = buf.readInt16BE(at);
    at += 2;
    if (len < 0) return null;
    const s = buf.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  const count = buf.readInt32BE(at);
  at += 4;
  const refused: AlterConfigsError[] = [];
  for (let i = 0; i < count; i++) {
    const code = buf.readInt16BE(at);
    at += 2;
    const message = readStr();
    at += 1; // resource type
    const name = readStr() ?? '';
    if (code !== 0) refused.push(new AlterConfigsError(name, ERROR_NAMES[code] ?? `error ${code}`, message));
  }
  return refused;
}

/** Sends one size-prefixed request and resolves with the answer's body (without its size). */
function exchange(broker: string, request: Buffer, connectionTimeoutMs: number, requestTimeoutMs: number): Promise<Buffer> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(connectionTimeoutMs, () => fail(new Error(`${broker}: no connection within ${connectionTimeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('close', () => reject(new Error(`${broker} closed the connection before answering`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.destroy();
        resolve(received.subarray(4, 4 + received.readInt32BE(0)));
      }
    });
    socket.connect(port, host, () => {
      socket.setTimeout(requestTimeoutMs, () => fail(new Error(`${broker}: no answer within ${requestTimeoutMs} ms`)));
      socket.write(request);
    });
  });
}
