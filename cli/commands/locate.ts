// `presence locate <msisdn|imsi|aor>`
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { locate } from '../../coordinator/locator.ts';

export function registerLocateCommand(program: Command): void {
  program
    .command('locate')
    .description('which key, partition and event manager (id, host, SIP contact, HTTP url, report age) own a subscriber, and its current presence (JSON)')
    .argument('<identity>', 'MSISDN (+E164), IMSI, sip:/tel: URI, or a subscriber key')
    .option('--no-directory', 'do not consult the subscriber directory for the canonical key')
    .action(async (identity: string, opts: { directory: boolean }) => {
      const s = loadSettings();
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const loc = await locate(s, identity, directory);
        process.stdout.write(`${JSON.stringify(loc, null, 2)}\n`);
        if (!loc.owner)
          process.stderr.write(
            `no live event manager reports owning partition ${loc.partition} (is one running? presence run event-manager; reports older than 3 × PRESENCE_MEMBER_REPORT_INTERVAL count as gone)\n`,
          );
      } finally {
        await directory?.close();
      }
    });
}
