// kafkajs is used for administration (topics, metadata, group descriptions):
// pure JS, no native build needed by the CLI, and a complete admin API.
// Data paths use node-rdkafka (see rdkafkaConfig.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import { kafkajsSecurity } from './kafkaSecurity.ts';

const { Kafka, logLevel } = kafkajs;
type Kafka = InstanceType<typeof Kafka>;

export function kafkaFor(brokers: string, clientId = 'presence-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    ...kafkajsSecurity(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** Runs `fn` with a connected admin client and always disconnects. */
export async function withAdmin<T>(brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** True when the cluster answers a metadata request with at least one broker and a controller. */
export async function brokerAnswers(brokers: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'presence-probe',
    brokers: brokers.split(','),
    ...kafkajsSecurity(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== undefined;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// Errors a just-created topic or a moving leader produce while the metadata
// propagates (KRaft brokers learn of new topics from the metadata log a moment
// after CreateTopics returns); they clear by themselves, so they are retried.
const RETRIABLE_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT']);

interface MaybeKafkaError {
  type?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** True for the Kafka errors that clear by themselves as metadata propagates (also inside kafkajs' aggregate and retry wrappers). */
export function isRetriableAdminError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as MaybeKafkaError;
  if (typeof err.type === 'string' && RETRIABLE_TYPES.has(err.type)) return true;
  if (Array.isArray(err.errors) && err.errors.length > 0) return err.errors.every((x) => isRetriableAdminError(x));
  return err.cause !== undefined && isRetriableAdminError(err.cause);
}

export interface RetryBound {
  /** Give up after this long, reporting the last error. */
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export const ADMIN_RETRY: RetryBound = { timeoutMs: 30_000, initialDelayMs: 100, maxDelayMs: 2_000 };

/** Runs an admin call, retrying retriable Kafka errors with exponential backoff until the bound; other errors at once. */
/**
 * The waits of an exponential backoff within the bound, doubling up to the
 * maximum; it ends when the next wait would pass the deadline, so a caller
 * gives up then rather than after an over-long sleep.
 */
function* backoffDelays(bound: RetryBound): Generator<number> {
  const deadline = Date.now() + bound.timeoutMs;
  let delay = bound.initialDelayMs ?? 100;
  while (Date.now() + delay <= deadline) {
    yield delay;
    delay = Math.min(delay * 2, bound.maxDelayMs ?? 2_000);
  }
}

/** Runs an admin call, retrying retriable Kafka errors with exponential backoff until the bound; other errors at once. */
export async function retryRetriable<T>(what: string, fn: () => Promise<T>, bound: RetryBound = ADMIN_RETRY): Promise<T> {
  const delays = backoffDelays(bound);
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetriableAdminError(e)) throw e;
      const next = delays.next();
      if (next.done) throw new Error(`${what}: still failing after ${bound.timeoutMs} ms: ${(e as Error).message}`, { cause: e });
      await sleep(next.value);
    }
  }
}

/** Topics (of `names`) that do not yet have a leader for every partition, with the reason. */
async function topicsWithoutLeaders(admin: Admin, names: string[]): Promise<Map<string, string>> {
  const pending = new Map<string, string>();
  let metadata: Awaited<ReturnType<Admin['fetchTopicMetadata']>>;
  try {
    metadata = await admin.fetchTopicMetadata({ topics: names });
  } catch (e) {
    if (!isRetriableAdminError(e)) throw e;
    for (const n of names) pending.set(n, (e as Error).message);
    return pending;
  }
  const seen = new Map(metadata.topics.map((t) => [t.name, t.partitions]));
  for (const n of names) {
    const partitions = seen.get(n);
    if (!partitions || partitions.length === 0) pending.set(n, 'not in the metadata yet');
    else {
      const leaderless = partitions.filter((p) => p.partitionErrorCode !== 0 || p.leader < 0).map((p) => p.partitionId);
      if (leaderless.length > 0) pending.set(n, `no leader for partition(s) ${leaderless.join(', ')}`);
    }
  }
  return pending;
}

/**
 * Waits until every named topic has a leader for every partition, polling
 * metadata with backoff; past the bound it fails naming the topics still
 * without one. kafkajs' own `waitForLeaders` gives up on the first
 * UNKNOWN_TOPIC_OR_PARTITION, which a just-created topic answers for a moment.
 */
export async function waitForTopicLeaders(admin: Admin, names: string[], bound: RetryBound = ADMIN_RETRY): Promise<void> {
  if (names.length === 0) return;
  const delays = backoffDelays(bound);
  let pending = await topicsWithoutLeaders(admin, names);
  while (pending.size > 0) {
    const next = delays.next();
    if (next.done) {
      const list = [...pending].map(([t, why]) => `${t} (${why})`).join(', ');
      throw new Error(`topics without a leader after ${bound.timeoutMs} ms: ${list}`);
    }
    await sleep(next.value);
    pending = await topicsWithoutLeaders(admin, [...pending.keys()]);
  }
}

/** Creates the topics (those that exist already are left as they are) and waits until each has a leader for every partition. */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], bound: RetryBound = ADMIN_RETRY): Promise<void> {
  if (topics.length === 0) return;
  await retryRetriable(
    `creating ${topics.map((t) => t.topic).join(', ')}`,
    async () => {
      // A retry after a partial success would fail on the ones that exist now.
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: false });
    },
    bound,
  );
  await waitForTopicLeaders(
    admin,
    topics.map((t) => t.topic),
    bound,
  );
}
