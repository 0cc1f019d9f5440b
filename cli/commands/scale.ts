// `presence scale event-managers N` — ops rebalancing by consumer-group scaling.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { fleet, scaleEventManagers } from '../../infra/local/eventManagerFleet.ts';

export function registerScaleCommand(program: Command): void {
  program
    .command('scale')
    .description('scale the local event-manager group: the consumer group rebalances subscribers (with their state) onto the members')
    .argument('<component>', 'event-managers')
    .argument('[count]', 'number of members; omitted: show the running ones')
    .action(async (component: string, count?: string) => {
      if (component !== 'event-managers') throw new Error(`only event-managers can be scaled, not ${component}`);
      const s = loadSettings();
      const members = count === undefined ? fleet(s) : await scaleEventManagers(s, Number(count), (l) => process.stderr.write(`${l}\n`));
      for (const m of members) process.stdout.write(`${m.id.padEnd(8)} pid ${String(m.pid).padEnd(8)} ${m.memoryMb ?? '?'} MiB  log ${m.log}\n`);
      if (members.length === 0) process.stdout.write('no event managers running\n');
    });
}
