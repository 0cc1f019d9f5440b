// Promise forms of the node-rdkafka calls the runtime uses (the library is callback-based).
import Kafka from 'node-rdkafka';
import { clientSecurity, isOidc } from './kafkaSecurity.ts';
import { type OAuthTokenSource, tokenSourceFor } from './oauthTokens.ts';

export type Producer = InstanceType<typeof Kafka.Producer>;
export type Consumer = InstanceType<typeof Kafka.KafkaConsumer>;
export type Message = Kafka.Message;
export type TopicPartitionOffset = Kafka.TopicPartitionOffset;

function cb<T = void>(resolve: (v: T) => void, reject: (e: Error) => void) {
  return (err: Kafka.LibrdKafkaError | null | undefined, value?: T) => (err ? reject(asError(err)) : resolve(value as T));
}

export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  const e = err as { message?: string; code?: number };
  return Object.assign(new Error(e?.message ?? String(err)), { code: e?.code });
}

/** librdkafka's RD_KAFKA_RESP_ERR__AUTHENTICATION: the broker refused the SASL credentials. */
export const ERR_AUTHENTICATION = -169;

/**
 * Connects, failing at once on a refused SASL login: librdkafka keeps retrying
 * it and the connect would otherwise end at the timeout as a bare "broker
 * transport failure", hiding the cause. node-rdkafka 3 reports the refusal
 * only as a log line (no error event), so both are watched.
 */
async function connectClient(client: Producer | Consumer, timeoutMs: number): Promise<void> {
  const security = clientSecurity();
  if (security.protocol.startsWith('SASL_') && isOidc(security)) await holdBearerToken(client, tokenSourceFor(security));
  return new Promise((resolve, reject) => {
    let settled = false;
    const events = client as unknown as NodeJS.EventEmitter;
    const onError = (err: unknown) => {
      const e = asError(err);
      if ((e as { code?: number }).code !== ERR_AUTHENTICATION) return;
      finish(new Error(e.message));
    };
    const onLog = (entry: { message?: string }) => {
      const m = /SASL authentication error: (.*?)(?: \(after \d+ms|$)/.exec(entry.message ?? '');
      if (m) finish(new Error(`SASL authentication error: ${m[1]}`));
    };
    const finish = (err: Error | undefined) => {
      events.removeListener('event.error', onError);
      events.removeListener('event.log', onLog);
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    events.on('event.error', onError);
    events.on('event.log', onLog);
    client.connect({ timeout: timeoutMs }, (err) => finish(err ? asError(err) : undefined));
  });
}

/** How long to wait before trying again when a token refresh failed (the current token is still valid meanwhile). */
const TOKEN_RETRY_MS = 5_000;

/**
 * Sets an OAUTHBEARER token on the client before it connects and a fresh one
 * before each expires, until the client disconnects. node-rdkafka's setToken
 * gives librdkafka a token it never asks to refresh (its expiry is set to
 * the maximum), so renewing is ours; a token refused at the endpoint fails
 * the connect (OAuthTokenRefused), later refusals are retried.
 */
async function holdBearerToken(client: Producer | Consumer, tokens: OAuthTokenSource): Promise<void> {
  const first = await tokens.token();
  client.setOauthBearerToken(first.value);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (at: number) => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        tokens.token().then(
          (t) => {
            if (stopped) return;
            client.setOauthBearerToken(t.value);
            schedule(tokens.refreshAt(t));
          },
          () => schedule(Date.now() + TOKEN_RETRY_MS),
        );
      },
      Math.max(0, at - Date.now()),
    );
    // A refresh timer alone never keeps the process alive.
    timer.unref();
  };
  schedule(tokens.refreshAt(first));
  (client as unknown as NodeJS.EventEmitter).once('disconnected', () => {
    stopped = true;
    clearTimeout(timer);
  });
}

export function connectProducer(p: Producer, timeoutMs = 15_000): Promise<void> {
  return connectClient(p, timeoutMs);
}

export function connectConsumer(c: Consumer, timeoutMs = 15_000): Promise<void> {
  return connectClient(c, timeoutMs);
}

export function disconnect(client: Producer | Consumer): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    client.disconnect(() => resolve());
  });
}

export const initTransactions = (p: Producer, timeoutMs: number) => new Promise<void>((res, rej) => p.initTransactions(timeoutMs, cb(res, rej)));
export const beginTransaction = (p: Producer) => new Promise<void>((res, rej) => p.beginTransaction(cb(res, rej)));
export const commitTransaction = (p: Producer, timeoutMs: number) => new Promise<void>((res, rej) => p.commitTransaction(timeoutMs, cb(res, rej)));
export const abortTransaction = (p: Producer, timeoutMs: number) => new Promise<void>((res, rej) => p.abortTransaction(timeoutMs, cb(res, rej)));
export const sendOffsetsToTransaction = (p: Producer, offsets: TopicPartitionOffset[], c: Consumer, timeoutMs: number) =>
  new Promise<void>((res, rej) => p.sendOffsetsToTransaction(offsets, c, timeoutMs, cb(res, rej)));

export function consumeBatch(c: Consumer, max: number): Promise<Message[]> {
  return new Promise((resolve, reject) => c.consume(max, (err, messages) => (err ? reject(asError(err)) : resolve(messages))));
}

export function seek(c: Consumer, tpo: TopicPartitionOffset, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => c.seek(tpo, timeoutMs, (err) => (err ? reject(asError(err)) : resolve())));
}

export function committed(c: Consumer, partitions: Kafka.TopicPartition[], timeoutMs = 5000): Promise<TopicPartitionOffset[]> {
  return new Promise((resolve, reject) =>
    c.committed(partitions, timeoutMs, (err, tp) => (err ? reject(asError(err)) : resolve(tp as TopicPartitionOffset[]))),
  );
}

/** Flushes a producer's queue; rejects when the broker cannot take it within the timeout. */
export function flush(p: Producer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => p.flush(timeoutMs, (err) => (err ? reject(asError(err)) : resolve())));
}

/** A partition's log start and high watermark, asked of the broker. */
export function watermarks(c: Consumer, topic: string, partition: number, timeoutMs = 5000): Promise<{ low: number; high: number }> {
  return new Promise((resolve, reject) =>
    c.queryWatermarkOffsets(topic, partition, timeoutMs, (err, o) => (err ? reject(asError(err)) : resolve({ low: o.lowOffset, high: o.highOffset }))),
  );
}

/** The first offset still in a partition (its log start), asked of the broker. */
export async function lowWatermark(c: Consumer, topic: string, partition: number, timeoutMs = 5000): Promise<number> {
  return (await watermarks(c, topic, partition, timeoutMs)).low;
}
