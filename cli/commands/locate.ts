// `presence locate <msisdn|imsi|aor>`
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { keyOf, locate, ownerOf, subscriberFromOwner } from '../../coordinator/locator.ts';
import { partitionOf } from '../../kafka/partitioner.ts';

export function registerLocateCommand(program: Command): void {
  program
    .command('locate')
    .description('which key, partition and event manager (id, host, SIP contact, HTTP url, report age) own a subscriber, and its current presence (JSON)')
    .argument('<identity>', 'MSISDN (+E164), IMSI, sip:/tel: URI, or a subscriber key')
    .option('--no-directory', 'do not consult the subscriber directory for the canonical key')
    .option(
      '--requester <uri>',
      "whose connectability the presence carries (sip:, sips: or tel: URI), computed by the owner from the subscriber's profile and lists; default anonymous",
    )
    .action(async (identity: string, opts: { directory: boolean; requester?: string }) => {
      if (opts.requester !== undefined && !/^(sips?|tel):\S+$/i.test(opts.requester))
        throw new Error(`--requester must be a sip:, sips: or tel: URI, not ${opts.requester}`);
      const s = loadSettings();
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const loc = await locate(s, identity, directory, opts.requester);
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

interface WatcherRow {
  watcherUri: string;
  state: string;
  decision: string;
  notifyCseq: number;
  version: number;
  expiresAt: string;
  contact: string;
  viaFlow: boolean;
  event?: string;
  dialogFilter?: { callId: string };
}

/** The package of a watcher dialog other than presence, and the one call a dialog watcher may be limited to. */
export function watcherPackage(w: Pick<WatcherRow, 'event' | 'dialogFilter'>): string {
  if (w.event === undefined || w.event === 'presence') return '';
  return ` [${w.event}${w.dialogFilter ? ` call-id=${w.dialogFilter.callId}` : ''}]`;
}

export function registerWatchersCommand(program: Command): void {
  program
    .command('watchers')
    .description(
      'who watches a subscriber: its watcher dialogs (state, authorization, NOTIFY CSeq and version, expiry), asked of the event manager that owns it (its member API, run event-manager --api-port)',
    )
    .argument('<identity>', 'MSISDN (+E164), IMSI, sip:/tel: URI, or a subscriber key')
    .option('--json', 'the owner’s whole answer (presence, publications, watchers) as JSON')
    .option('--no-directory', 'do not consult the subscriber directory for the canonical key')
    .action(async (identity: string, opts: { json?: boolean; directory: boolean }) => {
      const s = loadSettings();
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const key = await keyOf(s, identity, directory);
        // Only the owner is needed: its API answers for the rest (locate would ask it a second time).
        const partition = partitionOf(key, s.topics.partitions);
        const owner = await ownerOf(s, partition);
        if (!owner) throw new Error(`no live event manager reports owning partition ${partition} of ${key} (is one running?)`);
        if (!owner.httpUrl) throw new Error(`event manager ${owner.memberId} (partition ${partition}) advertises no member API: run it with --api-port`);
        const view = await subscriberFromOwner(s, owner.httpUrl, key);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(view ?? { key, watchers: [] }, null, 2)}\n`);
          return;
        }
        const rows = ((view?.watchers as WatcherRow[] | undefined) ?? []).map(
          (w) =>
            `${w.watcherUri.padEnd(36)} ${w.state.padEnd(8)} ${w.decision.padEnd(12)} cseq ${String(w.notifyCseq).padStart(4)} v${String(w.version).padEnd(4)} until ${w.expiresAt}  → ${w.contact}${w.viaFlow ? ' (via its flow)' : ''}${watcherPackage(w)}`,
        );
        process.stdout.write(
          `${key}: ${rows.length} watcher dialog(s), held by ${owner.memberId} (partition ${partition})\n${rows.join('\n')}${rows.length ? '\n' : ''}`,
        );
      } finally {
        await directory?.close();
      }
    });
}
