// Whether the cluster's group coordinators offer a KIP-848 assignor. Asking a
// broker for an assignor it lacks makes librdkafka fail with a bare "Local:
// Fatal error", so a member checks first and fails with a reason and a fix.
import kafkajs from 'kafkajs';
import { withAdmin } from '../kafkaAdmin.ts';
import type { GroupAssignor } from './groupAssignor.ts';

/** The class the broker must list in group.consumer.assignors for each of our assignors (built-ins need none). */
const PLUGGED: Partial<Record<GroupAssignor, string>> = { load: 'presence.assignor.LoadAwareAssignor' };

/** Per broker id: its group.consumer.assignors, as configured. */
export async function brokerAssignors(brokers: string): Promise<Map<string, string>> {
  return withAdmin(brokers, async (admin) => {
    const { brokers: nodes } = await admin.describeCluster();
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: nodes.map((n) => ({ type: kafkajs.ConfigResourceTypes.BROKER, name: String(n.nodeId), configNames: ['group.consumer.assignors'] })),
    });
    const out = new Map<string, string>();
    for (const r of res.resources) out.set(r.resourceName, r.configEntries.find((e) => e.configName === 'group.consumer.assignors')?.configValue ?? '');
    return out;
  });
}

/** Throws, naming the brokers and the fix, unless every broker offers `assignor`. */
export async function ensureBrokersOffer(brokers: string, assignor: GroupAssignor): Promise<void> {
  const cls = PLUGGED[assignor];
  if (!cls) return;
  const configured = await brokerAssignors(brokers);
  const lacking = [...configured].filter(
    ([, v]) =>
      !v
        .split(',')
        .map((x) => x.trim())
        .includes(cls),
  );
  if (lacking.length === 0 && configured.size > 0) return;
  throw new Error(
    `the Kafka cluster at ${brokers} does not offer the "${assignor}" assignor: ` +
      `${lacking.map(([id, v]) => `broker ${id} has group.consumer.assignors=${v || '(default)'}`).join('; ')}. ` +
      `Add ${cls} (infra/assignor) to the brokers — for the local stack, restart it: presence stack down && presence stack up — or use --assignor range`,
  );
}
