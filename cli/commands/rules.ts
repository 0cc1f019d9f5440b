// `presence rules set|show`: presence authorization (who may watch whom).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { WatcherRules, parseDecision } from '../../streams/event-manager/authorization/watcherRules.ts';
import { keyOf } from '../../coordinator/locator.ts';

async function withRules<T>(fn: (r: WatcherRules) => Promise<T>): Promise<T> {
  const s = loadSettings();
  const r = new WatcherRules(s.database.url, s.eventManager.defaultWatcherDecision);
  try {
    await r.migrate();
    return await fn(r);
  } finally {
    await r.close();
  }
}

export function registerRulesCommands(program: Command): void {
  const rules = program.command('rules').description("presentities' authorization rules for watchers (PostgreSQL presence.watcher_rules)");
  rules
    .command('set')
    .description(
      'allow, allow-location (allow, and the position the network reports), allow-presence (presence; BLF lamps without call details), block, polite-block (sees closed presence) or confirm (pending) a watcher, or every watcher of a domain (*@domain)',
    )
    .argument('<presentity>', 'MSISDN, IMSI, sip:/tel: URI or subscriber key')
    .argument('<watcher>', 'watcher URI (sip:bob@example.com) or *@domain')
    .argument('<decision>', 'allow | allow-location | allow-presence | block | polite-block | confirm')
    .action(async (presentity: string, watcher: string, decision: string) => {
      const d = parseDecision(decision, 'decision');
      // Committed with an outbox row: the availability service relays it, so the owner's live dialogs follow at once.
      const key = await keyOf(loadSettings(), presentity);
      await withRules((r) => r.set(key, watcher, d));
      process.stdout.write(`${key}: ${watcher} → ${d}\n`);
    });
  rules
    .command('show')
    .description('the decision a watcher gets for a presentity (its rule, or the default)')
    .argument('<presentity>')
    .argument('<watcher>')
    .action(async (presentity: string, watcher: string) => {
      const key = await keyOf(loadSettings(), presentity);
      process.stdout.write(`${key}: ${watcher} → ${await withRules((r) => r.decide(key, watcher))}\n`);
    });
}
