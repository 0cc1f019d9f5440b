// kafkajs is used for administration (topics, metadata, group descriptions):
// pure JS, no native build needed by the CLI, and a complete admin API.
// Data paths use node-rdkafka (see rdkafkaConfig.ts).
import kafkajs, { type Admin } from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
type Kafka = InstanceType<typeof Kafka>;

export function kafkaFor(brokers: string, clientId = 'presence-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean),
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
