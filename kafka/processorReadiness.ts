// /readyz of a member built on the transactional processor (event manager,
// group presence's halves, event deriver): one rule for all of them, as Kafka
// Streams' state is RUNNING only after its first rebalance completes.
import type { HealthCheck } from '../protocols/http/adminServer.ts';

export interface ProcessorHealth {
  /** The processing loop runs. */
  running: boolean;
  /** The group gave this member its first assignment (an empty one counts). */
  joined: boolean;
  live: number[];
  restoring: number[];
  split: number[];
}

/**
 * Ready: joined, the loop running, and no assigned partition still restoring or held only in
 * part (its records would wait). Joined with an empty assignment is ready: nothing to answer for.
 * Before the first assignment it holds nothing either, but only because it has not been told yet.
 */
export function processorReadiness(h: ProcessorHealth): HealthCheck {
  const details = { partitions: h.live, restoring: h.restoring, split: h.split };
  if (!h.running) return { ok: false, reason: 'the processing loop is not running', details };
  if (!h.joined) return { ok: false, reason: 'joining the group: no assignment received yet', details };
  if (h.restoring.length) return { ok: false, reason: `restoring partitions ${h.restoring.join(',')}`, details };
  if (h.split.length) return { ok: false, reason: `partitions ${h.split.join(',')} held only in part (co-partitioned topics split across members)`, details };
  return { ok: true, details };
}
