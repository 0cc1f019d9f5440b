// `presence run <component>`: long-running members of the pipeline.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { startHttpApi } from '../../streams/coordinator/httpApi.ts';
import { SubscriberDirectory } from '../../connectors/taps/directory/subscriberDirectory.ts';

const say = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** Resolves on SIGINT/SIGTERM so a component can shut down cleanly (commit, leave the group). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => resolve(sig);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

export function registerRunCommands(program: Command): void {
  const run = program.command('run').description('run a pipeline component until interrupted (SIGINT/SIGTERM stop it cleanly)');

  run
    .command('event-manager')
    .description('join the event-manager consumer group and process the partitions it is assigned')
    .option('--member-id <id>', 'stable member id (transactional id and static membership); default host-pid')
    .option('--static', 'use static membership (group.instance.id = member id): a restart within the session timeout keeps its partitions')
    .option('--protocol <p>', 'group protocol: consumer (KIP-848, server-side range assignor keeping co-partitioned topics together) or classic (client-side range, eager)', 'consumer')
    .option('--stats-interval <s>', 'seconds between progress lines', '10')
    .action(async (opts: { memberId?: string; static?: boolean; protocol: string; statsInterval: string }) => {
      if (opts.protocol !== 'classic' && opts.protocol !== 'consumer') throw new Error(`--protocol must be classic or consumer, not ${opts.protocol}`);
      const s = loadSettings();
      const em = await startEventManager(s, {
        memberId: opts.memberId,
        instanceId: opts.static ? opts.memberId : undefined,
        protocol: opts.protocol,
        log: say,
      });
      say(`event manager ${opts.memberId ?? '(host-pid)'} running against ${s.kafka.brokers}`);
      const timer = setInterval(() => {
        const st = em.stats;
        const ps = em.processor.stats;
        say(
          `partitions ${em.processor.ctx.partitions().length}, records ${ps.records} (signals ${st.signals}, subscribes ${st.subscribes}, reports ${st.reports}), ` +
            `presence changes ${st.presenceChanges}, notifies ${st.notifies}, timers ${st.timersFired}, dead letters ${st.deadLetters}, ` +
            `transactions ${ps.transactions}, aborts ${ps.aborts}, restores ${ps.restores}${ps.lastError ? `, last error: ${ps.lastError}` : ''}`,
        );
      }, Number(opts.statsInterval) * 1000);
      const ended = await Promise.race([untilSignal(), em.done().then(() => 'ended')]);
      clearInterval(timer);
      say(`stopping (${ended})`);
      await em.stop();
    });

  run
    .command('locator')
    .description('the coordinator HTTP API: GET /locate/{msisdn|imsi|aor} (key, partition, owning event manager, presence) and GET /healthz')
    .option('--port <port>', 'HTTP port', '8090')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { port: string; host: string }) => {
      const s = loadSettings();
      const directory = new SubscriberDirectory(s.database.url);
      await directory.migrate();
      const server = await startHttpApi(s, Number(opts.port), opts.host, directory);
      say(`locator listening on http://${opts.host}:${opts.port}/locate/{identity}`);
      say(`stopping (${await untilSignal()})`);
      await new Promise((r) => server.close(r));
      await directory.close();
    });
}
