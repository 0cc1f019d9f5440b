// How long a silent member keeps its partitions. Presence is the workload: a
// crashed event manager's subscribers get no NOTIFY and no PUBLISH answer until
// its partitions move (or it comes back, staticMembership.ts), so the session
// is short. librdkafka heartbeats from its own thread, so a busy Node event
// loop or a long batch does not miss heartbeats: only a dead, paused or cut-off
// process lets 6 s pass in silence. The heartbeat interval also sets how fast
// KIP-848 hands out a new assignment (it rides on the heartbeat response).
//
// Under KIP-848 both are group configs bounded by the broker
// (group.consumer.min.session.timeout.ms, 45 s by default, and
// group.consumer.min.heartbeat.interval.ms, 5 s): `presence stack up` lowers
// those bounds (infra/local/kafkaBroker.ts); a broker that keeps them refuses
// the group config and the member runs with the broker's defaults, saying so.
import { KafkaProtocolError, setGroupConfigs } from './consumerGroupAdmin.ts';

export const GROUP_SESSION = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } as const;

const INVALID_CONFIG = 40;

/** Sets the group's session timeout and heartbeat interval (idempotent); returns whether the broker took them. */
export async function applyGroupSession(brokers: string, groupId: string, log?: (line: string) => void): Promise<boolean> {
  try {
    await setGroupConfigs(brokers, groupId, {
      'consumer.session.timeout.ms': String(GROUP_SESSION.sessionTimeoutMs),
      'consumer.heartbeat.interval.ms': String(GROUP_SESSION.heartbeatIntervalMs),
    });
    return true;
  } catch (e) {
    if (!(e instanceof KafkaProtocolError) || e.code !== INVALID_CONFIG) throw e;
    log?.(
      `group ${groupId}: the broker refused a ${GROUP_SESSION.sessionTimeoutMs} ms session timeout (${e.message}); ` +
        "running with the broker's default, so a crashed member's partitions wait that long unless it restarts. " +
        'Lower group.consumer.min.session.timeout.ms and group.consumer.min.heartbeat.interval.ms on the brokers (presence stack up does)',
    );
    return false;
  }
}
