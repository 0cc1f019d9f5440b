// `presence directory add | import | show`: the subscriber directory the taps
// consult (who is ours, and which identities are one subscriber).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { GroupStore } from '../../services/group-service/groupStore.ts';
import { topicName } from '../../schemas/topology.ts';
import { SubscriberDirectory, entryKey, type DirectoryEntry } from '../../subscriber/directory/subscriberDirectory.ts';
import { identityKey, type IdentityRef } from '../../subscriber/identity/subscriberKey.ts';

async function withDirectory<T>(fn: (d: SubscriberDirectory) => Promise<T>): Promise<T> {
  const d = new SubscriberDirectory(loadSettings().database.url);
  try {
    await d.migrate();
    return await fn(d);
  } finally {
    await d.close();
  }
}

function entry(o: { msisdn?: string; imsi?: string; aor?: string }, where: string): DirectoryEntry {
  const msisdn = o.msisdn ? (o.msisdn.startsWith('+') ? o.msisdn : `+${o.msisdn}`) : null;
  if (msisdn && !/^\+[1-9]\d{1,14}$/.test(msisdn)) throw new Error(`${where}: MSISDN ${o.msisdn} is not E.164 (country code and number, e.g. +351912345678)`);
  if (o.imsi && !/^\d{14,15}$/.test(o.imsi)) throw new Error(`${where}: IMSI ${o.imsi} must have 14 or 15 digits`);
  if (o.aor && !/^sips?:[^@\s]+@[^\s]+$/.test(o.aor)) throw new Error(`${where}: AoR ${o.aor} must look like sip:user@domain`);
  if (!msisdn && !o.imsi && !o.aor) throw new Error(`${where}: give at least one of MSISDN, IMSI, AoR`);
  return { msisdn, imsi: o.imsi || null, aor: o.aor || null };
}

function identityRef(id: string): IdentityRef {
  return id.startsWith('sip') ? { kind: 'aor', value: id } : id.startsWith('+') ? { kind: 'msisdn', value: id } : { kind: 'imsi', value: id };
}

/**
 * Deletes a subscriber from the directory and, unless `publish` is false, writes the
 * directory-changes tombstone the Debezium source would (a deployment without Kafka
 * Connect gets the deletion through too; with it the second tombstone changes nothing):
 * its watchers are told noresource and it leaves its groups. Resolves the deleted key.
 */
export async function removeSubscriber(
  s: Settings,
  identity: string,
  o: { publish: boolean; directorySchema?: string; groupSchema?: string | false },
): Promise<string | undefined> {
  const d = new SubscriberDirectory(s.database.url, o.directorySchema);
  let key: string | undefined;
  try {
    await d.migrate();
    key = await d.remove(identityRef(identity));
  } finally {
    await d.close();
  }
  if (key === undefined) return key;
  if (o.groupSchema !== false) {
    // The group service's rows are its source of truth: without this its next group version would name the member again.
    const groups = new GroupStore(s.database.url, o.groupSchema ?? 'presence');
    try {
      const { rows } = await groups.pool.query<{ t: string | null }>(`select to_regclass('group_members')::text as t`);
      if (rows[0]?.t) {
        const left = await groups.removeSubscriberEverywhere(key);
        if (left.length) process.stderr.write(`${key} left ${left.length} group(s): ${left.join(', ')}\n`);
      }
    } finally {
      await groups.close();
    }
  }
  if (!o.publish) return key;
  const producer = new RecordProducer(s.kafka.brokers, 'presence-directory', 15_000);
  try {
    await producer.connect();
    await producer.send(topicName(s.topics.prefix, 'directory-changes'), key, null);
  } finally {
    await producer.close();
  }
  return key;
}

export function registerDirectoryCommands(program: Command): void {
  const dir = program.command('directory').description('the subscriber directory (PostgreSQL): which IMSI, MSISDN and SIP AoR are one of our subscribers');

  dir
    .command('add')
    .description('provision one subscriber')
    .option('--msisdn <e164>', 'MSISDN in E.164, e.g. +351912345678')
    .option('--imsi <digits>', 'IMSI, 14-15 digits')
    .option('--aor <uri>', 'SIP address of record, e.g. sip:alice@ims.example.net')
    .action(async (o: { msisdn?: string; imsi?: string; aor?: string }) => {
      const e = entry(o, 'add');
      await withDirectory((d) => d.provision([e]));
      process.stdout.write(`provisioned ${entryKey(e)}\n`);
    });

  dir
    .command('import')
    .description('provision subscribers from a CSV file with a header row naming msisdn, imsi and/or aor columns')
    .argument('<file>')
    .action(async (file: string) => {
      const lines = readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '');
      const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
      const col = (name: string) => header.indexOf(name);
      if (col('msisdn') < 0 && col('imsi') < 0 && col('aor') < 0) throw new Error(`${file}: the header must name at least one of msisdn, imsi, aor`);
      const entries = lines.map((l, i) => {
        const cells = l.split(',').map((c) => c.trim());
        const get = (name: string) => (col(name) >= 0 ? cells[col(name)] || undefined : undefined);
        return entry({ msisdn: get('msisdn'), imsi: get('imsi'), aor: get('aor') }, `${file} line ${i + 2}`);
      });
      await withDirectory((d) => d.provision(entries));
      process.stdout.write(`provisioned ${entries.length} subscribers (existing identities left as they were)\n`);
    });

  dir
    .command('remove')
    .description('delete a subscriber (all its identities): its watchers get NOTIFY terminated;reason=noresource and it leaves every group')
    .argument('<identity>', '+E164 MSISDN, IMSI digits or sip: AoR')
    .option('--no-publish', 'only delete the row (the Kafka Connect CDC source publishes the tombstone)')
    .option(
      '--group-schema <name>',
      "the group service's PostgreSQL schema: the subscriber leaves its groups there too (skipped when it has no group tables)",
      'presence',
    )
    .option('--no-groups', "leave the group service's member rows alone")
    .action(async (id: string, o: { publish: boolean; groupSchema: string; groups: boolean }) => {
      const key = await removeSubscriber(loadSettings(), id, { publish: o.publish, groupSchema: o.groups ? o.groupSchema : false });
      if (key === undefined) {
        process.stdout.write(`${id}: not a subscriber\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`removed ${key}${o.publish ? ' (tombstone published on directory-changes)' : ''}\n`);
    });

  dir
    .command('show')
    .description('the directory entry of an identity: +E164 MSISDN, IMSI digits or sip: AoR')
    .argument('<identity>')
    .action(async (id: string) => {
      const ref = identityRef(id);
      const found = await withDirectory((d) => d.resolveMany([ref]));
      const e = found.get(identityKey(ref));
      if (!e) {
        process.stdout.write(`${id}: not a subscriber\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${JSON.stringify({ key: entryKey(e), msisdn: e.msisdn, imsi: e.imsi, aor: e.aor })}\n`);
    });
}
