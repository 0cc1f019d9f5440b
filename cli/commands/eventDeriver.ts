// `presence run event-deriver`: service events (issue 17) from the taps' signaling,
// current presence and availability-profile changes, exactly once, to the
// service-events topic (streams/service-events). Registered under `presence run`.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { eventDeriverReadiness, registerEventDeriverMetrics } from '../../streams/service-events/eventDeriverMetrics.ts';
import { startEventDeriver, type EventDeriver } from '../../streams/service-events/serviceEventDeriver.ts';
import { commandLog } from '../logger.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { untilStopped } from './run.ts';

const say = commandLog('event-deriver', loadSettings);

export function registerEventDeriverCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('event-deriver');
  addAdminOptions(cmd, 'eventDeriver');
  flagsFromSettings(cmd, (s) => s.roles.eventDeriver);
  cmd
    .description(
      'derive service events (calls offered/answered/missed, registration, SMS, presence and availability changes) from signaling-events, current-presence and availability-profiles into service-events, exactly once',
    )
    .addOption(memberIdOption('event-deriver', 'its transactional id, so a restart fences its predecessor', 'PRESENCE_EVENT_DERIVER_MEMBER_ID'))
    .addOption(memberIndexOption())
    .option('--fetch-wait-ms <ms>', 'longest a consumer fetch waits for committed records', '50')
    .option('--max-outage-s <s>', 'stop after this many seconds of batches failing on an outage (nothing discarded); 0 retries on', '0')
    .option('--stats-interval <s>', 'seconds between progress lines', '30')
    .action(
      async (opts: {
        memberId?: string;
        memberIndex: string;
        fetchWaitMs: string;
        maxOutageS: string;
        statsInterval: string;
        adminPort?: string;
        adminHost?: string;
      }) => {
        const fetchWaitMs = whole('--fetch-wait-ms', opts.fetchWaitMs, 1, 10_000);
        const maxOutageMs = whole('--max-outage-s', opts.maxOutageS, 0, 86_400) * 1000;
        const every = whole('--stats-interval', opts.statsInterval, 1, 86_400) * 1000;
        const memberId = memberIdOf('event-deriver', opts.memberId, opts.memberIndex);
        const s = loadSettings();
        say.start();
        // Up before Kafka is reached: /readyz says "starting" while it joins and restores the open calls.
        const state: { deriver?: EventDeriver; failed?: string } = {};
        const metrics = new MetricsRegistry();
        const admin = await startAdminFor(s, 'eventDeriver', opts, {
          metrics,
          ready: () => eventDeriverReadiness(state.deriver),
          live: () => (state.failed ? { ok: false, reason: state.failed } : { ok: true }),
          log: say,
        });
        const deriver = await startEventDeriver(s, { memberId, log: say, fetchWaitMs, maxOutageMs }).catch(async (err: unknown) => {
          await admin?.close();
          throw err;
        });
        state.deriver = deriver;
        registerEventDeriverMetrics(metrics, deriver);
        deriver.processor.done().catch((err: Error) => (state.failed = `the event deriver stopped: ${err.message}`));
        const line = () => {
          const st = deriver.stats;
          const events = Object.entries(st.events)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          return `in: signaling ${st.signaling}, presence ${st.presence}, availability ${st.availability}; out: ${events || 'none'}; dead letters ${st.deadLetters}`;
        };
        say(`deriving service events into ${s.topics.prefix}service-events at ${s.kafka.brokers}`);
        const timer = setInterval(() => say(line()), every);
        const { ended, failure } = await untilStopped(deriver.processor.done());
        clearInterval(timer);
        say(`stopping (${ended}); ${line()}`);
        await deriver.stop();
        await admin?.close();
        if (failure) throw failure;
      },
    );
}
