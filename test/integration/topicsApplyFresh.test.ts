// Issue 21: `topics apply` for a prefix that does not exist yet must wait for
// the new topics' leaders instead of failing with "This server does not host
// this topic-partition" while the broker's metadata catches up. One fresh
// prefix after another, as a user's first `topics apply` after `stack up`.
import { describe, expect, it } from 'vitest';
import { applyTopics } from '../../kafka/applyTopology.ts';
import { TOPICS, partitionsOf, topicName } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const RUNS = 15;

describe('topics apply on a fresh prefix', () => {
  it(`creates every topic with a leader per partition, ${RUNS} fresh prefixes in a row`, { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const s = isolatedSettings(`fresh${run}`, 12);
      try {
        const changes = await applyTopics(s);
        expect(changes.every((c) => c.action === 'created')).toBe(true);
        // Right after apply returns, every partition of every topic has a leader.
        await withAdmin(s.kafka.brokers, async (admin) => {
          const names = TOPICS.map((t) => topicName(s.topics.prefix, t.name));
          const meta = await admin.fetchTopicMetadata({ topics: names });
          for (const spec of TOPICS) {
            const t = meta.topics.find((m) => m.name === topicName(s.topics.prefix, spec.name));
            expect(t?.partitions).toHaveLength(partitionsOf(spec, 12));
            expect(t?.partitions.every((p) => p.leader >= 0)).toBe(true);
          }
        });
      } catch (e) {
        failures.push(`run ${run}: ${(e as Error).message}`);
      } finally {
        await cleanupIsolated(s);
      }
    }
    expect(failures).toEqual([]);
  });
});
