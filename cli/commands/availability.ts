// `presence availability set|show`: a subscriber's availability mode, transfer
// number and screening, from which (with presence) connectability is computed.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { AvailabilityStore, parseMode } from '../../subscriber/availability/availabilityStore.ts';
import { keyOf } from '../../coordinator/locator.ts';

/** The availability store of the configured database, migrated, closed after `fn`. */
export async function withAvailabilityStore<T>(fn: (a: AvailabilityStore) => Promise<T>): Promise<T> {
  const a = new AvailabilityStore(loadSettings().database.url);
  try {
    await a.migrate();
    return await fn(a);
  } finally {
    await a.close();
  }
}

export function registerAvailabilityCommands(program: Command): void {
  const av = program
    .command('availability')
    .description("subscribers' availability settings (PostgreSQL presence.availability): mode, call transfer, screening");
  av.command('set')
    .description('set the mode (available | busy | do-not-disturb | away), an optional transfer number and screening')
    .argument('<subscriber>', 'MSISDN, IMSI, sip:/tel: URI or subscriber key')
    .argument('<mode>')
    .option('--forward-to <number>', 'calls are transferred to this number (connectability: in-transfer)')
    .option('--contacts-only', 'only authorised watchers learn the connectability')
    .action(async (subscriber: string, mode: string, o: { forwardTo?: string; contactsOnly?: boolean }) => {
      const key = await keyOf(loadSettings(), subscriber);
      const settings = {
        mode: parseMode(mode),
        ...(o.forwardTo ? { forwardTo: o.forwardTo } : {}),
        screening: o.contactsOnly ? ('contacts-only' as const) : ('none' as const),
      };
      await withAvailabilityStore((a) => a.set(key, settings));
      process.stdout.write(`${key}: ${JSON.stringify(settings)}\n`);
    });
  av.command('show')
    .argument('<subscriber>')
    .action(async (subscriber: string) => {
      const key = await keyOf(loadSettings(), subscriber);
      const got = await withAvailabilityStore((a) => a.getMany([key]));
      process.stdout.write(`${key}: ${JSON.stringify(got.get(key))}\n`);
    });
}
