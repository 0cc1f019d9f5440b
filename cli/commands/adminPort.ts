// `--admin-port` of the long-running commands: the flag over the role's setting
// (PRESENCE_<ROLE>_ADMIN_PORT / admin.<role>Port), off when neither is given.
// The admin server starts before the component connects, so /readyz can say
// "not yet" while it does (protocols/http/adminServer.ts).
import type { Command } from 'commander';
import { port, type Settings } from '../../config/settings.ts';
import { startAdminServer, type AdminServer, type HealthCheck } from '../../protocols/http/adminServer.ts';
import type { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { enableKafkaClientStats } from '../../kafka/clientStats.ts';
import { registerKafkaClientMetrics } from '../../kafka/clientStatsMetrics.ts';

export type AdminRole =
  | 'eventManager'
  | 'sipFront'
  | 'notifySink'
  | 'hepTap'
  | 'groupPresence'
  | 'groupService'
  | 'availabilityService'
  | 'groupPresenceApi'
  | 'locator'
  | 'console'
  | 'locationAgent'
  | 'callHandling'
  | 'eventDeriver'
  | 'eventService';

/** Each role's admin-port setting (the config key is `admin.<role>Port`). */
export const ADMIN_PORT_ENV: Record<AdminRole, string> = {
  eventManager: 'PRESENCE_EVENT_MANAGER_ADMIN_PORT',
  sipFront: 'PRESENCE_SIP_FRONT_ADMIN_PORT',
  notifySink: 'PRESENCE_NOTIFY_SINK_ADMIN_PORT',
  hepTap: 'PRESENCE_HEP_TAP_ADMIN_PORT',
  groupPresence: 'PRESENCE_GROUP_PRESENCE_ADMIN_PORT',
  groupService: 'PRESENCE_GROUP_SERVICE_ADMIN_PORT',
  availabilityService: 'PRESENCE_AVAILABILITY_SERVICE_ADMIN_PORT',
  groupPresenceApi: 'PRESENCE_GROUP_PRESENCE_API_ADMIN_PORT',
  locator: 'PRESENCE_LOCATOR_ADMIN_PORT',
  console: 'PRESENCE_CONSOLE_ADMIN_PORT',
  locationAgent: 'PRESENCE_LOCATION_AGENT_ADMIN_PORT',
  callHandling: 'PRESENCE_CALL_HANDLING_ADMIN_PORT',
  eventDeriver: 'PRESENCE_EVENT_DERIVER_ADMIN_PORT',
  eventService: 'PRESENCE_EVENT_SERVICE_ADMIN_PORT',
};

export function addAdminOptions(cmd: Command, role: AdminRole): Command {
  return cmd
    .option(
      '--admin-port <port>',
      `admin HTTP port: GET /metrics (Prometheus), /livez, /readyz; 0 picks a free one (logged); default ${ADMIN_PORT_ENV[role]} or off`,
    )
    .option('--admin-host <addr>', 'address the admin port listens on (default PRESENCE_ADMIN_HOST or 127.0.0.1)');
}

export async function startAdminFor(
  s: Settings,
  role: AdminRole,
  flags: { adminPort?: string; adminHost?: string },
  o: { metrics: MetricsRegistry; ready: () => HealthCheck | Promise<HealthCheck>; live?: () => HealthCheck; log: (line: string) => void },
): Promise<AdminServer | undefined> {
  const p = flags.adminPort === undefined ? s.admin[`${role}Port`] : port('--admin-port', flags.adminPort);
  if (p === undefined) return undefined;
  // librdkafka's statistics only when someone can scrape them; clients built from here on emit them.
  enableKafkaClientStats(s.admin.kafkaStatisticsIntervalMs);
  registerKafkaClientMetrics(o.metrics);
  const admin = await startAdminServer({
    host: flags.adminHost ?? s.admin.host,
    port: p,
    metrics: o.metrics,
    ready: o.ready,
    ...(o.live ? { live: o.live } : {}),
  });
  o.log(`admin on ${admin.url} (/metrics, /livez, /readyz)`);
  return admin;
}
