// `run group-presence-api`'s metrics and readiness (README, Operations → Metrics
// and health). Ready: the database answers (every request reads the table) and,
// with the sink on, its consume loop still runs (else the table goes stale).
import { cachedCheck, type HealthCheck } from '../../../protocols/http/adminServer.ts';
import type { HttpStats } from '../../../protocols/http/httpStats.ts';
import type { MetricsRegistry } from '../../../protocols/http/metrics.ts';
import type { GroupPresenceSink } from './groupPresenceSink.ts';
import type { GroupPresenceTable } from './groupPresenceTable.ts';

export interface GroupPresenceApiState {
  table?: GroupPresenceTable;
  sink?: GroupPresenceSink;
  /** Why the sink's loop ended, once it has. */
  sinkFailed?: string;
  listening: boolean;
}

export function registerGroupPresenceApiMetrics(m: MetricsRegistry, st: GroupPresenceApiState, http: HttpStats): void {
  m.counter('presence_group_presence_api_http_responses_total', 'Answers of the group presence API, by route (presence, healthz, other) and status code', () =>
    http.byRouteAndCode(),
  );
  m.histogram('presence_group_presence_api_http_request_seconds', 'Time to answer a group presence API request', () => http.latency);
  m.counter(
    'presence_group_presence_api_records_total',
    'group-presence records applied to the table, by result (stored, stale: an older version, deleted)',
    () => {
      const s = st.sink?.stats;
      return [
        [{ result: 'stored' }, s?.stored ?? 0],
        [{ result: 'stale' }, s?.stale ?? 0],
        [{ result: 'deleted' }, s?.deleted ?? 0],
      ];
    },
  );
  m.counter('presence_group_presence_api_store_failures_total', 'Batches the database did not take (retried with backoff)', () => st.sink?.stats.failures ?? 0);
  m.counter(
    'presence_group_presence_api_dead_letters_total',
    'group-presence records that could not be decoded (dead-lettered)',
    () => st.sink?.stats.deadLetters ?? 0,
  );
}

export function groupPresenceApiReadiness(st: GroupPresenceApiState): () => Promise<HealthCheck> {
  const database = cachedCheck(async () => ({ ok: true, details: { groups: await st.table!.count() } }), 2000);
  return async () => {
    if (!st.listening || !st.table) return { ok: false, reason: 'starting: migrating the table and listening' };
    if (st.sinkFailed) return { ok: false, reason: st.sinkFailed };
    const db = await database();
    return db.ok
      ? { ...db, details: { ...db.details, sink: st.sink ? 'consuming' : 'off' } }
      : { ok: false, reason: `database does not answer: ${db.reason ?? ''}` };
  };
}
