// `presence run group-presence`: the group presence stream processor (both
// halves of the groups ⋈ member-presence join, see streams/group-presence).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { startGroupPresence } from '../../streams/group-presence/groupPresenceService.ts';
import { DEFAULT_FETCH_WAIT_MS } from '../../streams/group-presence/groupPresenceProcessor.ts';
import { untilStopped } from './run.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { groupPresenceReadiness, registerGroupPresenceMetrics } from '../../streams/group-presence/groupPresenceMetrics.ts';
import type { GroupPresenceService } from '../../streams/group-presence/groupPresenceService.ts';

const say = commandLog('group-presence', loadSettings);

function positive(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new Error(`${name} must be a positive whole number, not ${v}`);
  return Number(v);
}

export function registerGroupPresenceCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('group-presence');
  addAdminOptions(cmd, 'groupPresence');
  flagsFromSettings(cmd, (s) => ({ ...s.roles.groupPresence, maxOutageS: s.groupPresence.maxOutageS }));
  cmd
    .description(
      "join groups (basic group information) with their members' current presence, exactly once: keeps each group's presence, " +
        'answers group SUBSCRIBEs with RFC 4662 NOTIFYs (full state, then partial), publishes group-presence documents',
    )
    .addOption(
      memberIdOption(
        'group-presence',
        'the transactional ids of both consumer groups, so a restart fences its predecessor',
        'PRESENCE_GROUP_PRESENCE_MEMBER_ID',
      ),
    )
    .addOption(memberIndexOption())
    .option('--fetch-wait-ms <ms>', 'longest a consumer fetch waits for committed records (latency per hop vs idle fetch rate)', String(DEFAULT_FETCH_WAIT_MS))
    .option('--stats-interval <s>', 'seconds between progress lines', '10')
    .option(
      '--max-outage-s <s>',
      'stop (with the reason, nothing discarded) after this many seconds of batches failing on a broker, registry or database outage; 0 retries on (default PRESENCE_GROUP_PRESENCE_MAX_OUTAGE_S or 0)',
    )
    .action(
      async (opts: {
        memberId?: string;
        memberIndex: string;
        fetchWaitMs: string;
        statsInterval: string;
        maxOutageS?: string;
        adminPort?: string;
        adminHost?: string;
      }) => {
        const interval = positive('--stats-interval', opts.statsInterval);
        const fetchWaitMs = positive('--fetch-wait-ms', opts.fetchWaitMs);
        if (opts.maxOutageS !== undefined && !/^\d+$/.test(opts.maxOutageS))
          throw new Error(`--max-outage-s must be a whole number of seconds >= 0, not ${opts.maxOutageS}`);
        const memberId = memberIdOf('group-presence', opts.memberId, opts.memberIndex);
        const s = loadSettings();
        say.start();
        // Up before Kafka is reached: /readyz says "starting" while both halves join and restore.
        const state: { gp?: GroupPresenceService; failed?: string } = {};
        const metrics = new MetricsRegistry();
        const admin = await startAdminFor(s, 'groupPresence', opts, {
          metrics,
          ready: () => groupPresenceReadiness(state.gp),
          live: () => (state.failed ? { ok: false, reason: state.failed } : { ok: true }),
          log: say,
        });
        const gp = await startGroupPresence(s, {
          memberId,
          log: say,
          fetchWaitMs,
          ...(opts.maxOutageS !== undefined ? { maxOutageMs: Number(opts.maxOutageS) * 1000 } : {}),
        }).catch(async (err: unknown) => {
          await admin?.close();
          throw err;
        });
        state.gp = gp;
        registerGroupPresenceMetrics(metrics, gp);
        gp.done().catch((err: Error) => (state.failed = `group presence stopped: ${err.message}`));
        say(`group presence ${memberId} running against ${s.kafka.brokers}`);
        const timer = setInterval(() => {
          const g = gp.groups.stats;
          const m = gp.members.stats;
          const gs = gp.groups.processor.stats;
          const ms = gp.members.processor.stats;
          say(
            `groups: partitions ${gp.groups.processor.ctx.partitions().length}, group records ${g.groupRecords}, member presence ${g.memberPresence}, subscribes ${g.subscribes} (refused ${g.refused}), ` +
              `notifies ${g.notifies}, documents ${g.documents}, dead letters ${g.deadLetters}, aborts ${gs.aborts}${gs.lastError ? ` (last error: ${gs.lastError})` : ''}; ` +
              `members: partitions ${gp.members.processor.ctx.partitions().length}, presence ${m.presence}, memberships ${m.memberships}, fanned out ${m.fannedOut}, dead letters ${m.deadLetters}, aborts ${ms.aborts}`,
          );
        }, interval * 1000);
        const { ended, failure } = await untilStopped(gp.done());
        clearInterval(timer);
        say(`stopping (${ended})`);
        await gp.stop();
        await admin?.close();
        if (failure) throw failure;
      },
    );
}
