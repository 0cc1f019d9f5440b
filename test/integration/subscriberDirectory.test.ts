// The subscriber directory on the real PostgreSQL (database `test`, a schema
// of its own, dropped afterwards).
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriberDirectory, entryKey } from '../../subscriber/directory/subscriberDirectory.ts';

const url = testDatabaseUrl;
const schema = `it_directory_${process.pid}`;
const dir = new SubscriberDirectory(url, schema, 100);

beforeAll(async () => {
  await dir.migrate();
  await dir.provision([
    { msisdn: '+351910000001', imsi: '001010000000001', aor: 'sip:alice@ims.example.net' },
    { msisdn: '+351910000002', imsi: null, aor: null },
    { msisdn: null, imsi: '001010000000003', aor: null },
  ]);
});

afterAll(async () => {
  await dir.close();
  await dropSchema(schema);
});

describe('subscriber directory', () => {
  it('resolves every identity of a subscriber to one entry, and strangers to null, in one query', async () => {
    const before = dir.stats.queries;
    const r = await dir.resolveMany([
      { kind: 'imsi', value: '001010000000001' },
      { kind: 'aor', value: 'sip:alice@ims.example.net' },
      { kind: 'msisdn', value: '+351910000002' },
      { kind: 'msisdn', value: '+999999999' },
    ]);
    expect(dir.stats.queries - before).toBe(1);
    expect(entryKey(r.get('imsi:001010000000001')!)).toBe('msisdn:+351910000001');
    expect(entryKey(r.get('aor:sip:alice@ims.example.net')!)).toBe('msisdn:+351910000001');
    expect(r.get('msisdn:+351910000002')!.imsi).toBeNull();
    expect(r.get('msisdn:+999999999')).toBeNull();
    // Cached now: no second query.
    await dir.resolveMany([
      { kind: 'imsi', value: '001010000000001' },
      { kind: 'msisdn', value: '+999999999' },
    ]);
    expect(dir.stats.queries - before).toBe(1);
  });

  it('learns an IMSI for a provisioned MSISDN, and refuses a contradicting pair', async () => {
    expect(await dir.learn('001010000000002', '+351910000002')).toBe('learned');
    const fresh = new SubscriberDirectory(url, schema);
    try {
      const r = await fresh.resolveMany([{ kind: 'imsi', value: '001010000000002' }]);
      expect(entryKey(r.get('imsi:001010000000002')!)).toBe('msisdn:+351910000002');
      // Learning an MSISDN for an IMSI-only subscriber keeps its key (and so its partition).
      expect(await fresh.learn('001010000000003', '+351910000003')).toBe('learned');
      const again = await new SubscriberDirectory(url, schema).resolveMany([{ kind: 'msisdn', value: '+351910000003' }]);
      expect(entryKey(again.get('msisdn:+351910000003')!)).toBe('imsi:001010000000003');
      expect(await fresh.learn('001010000000002', '+351910000002')).toBe('known');
      expect(await fresh.learn('001010000000001', '+351910000002')).toBe('conflict');
      expect(fresh.stats.conflicts).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('rejects identities that are not E.164 / IMSI shaped at the database', async () => {
    await expect(dir.provision([{ msisdn: '0912345', imsi: null, aor: null }])).rejects.toThrow(/check constraint/);
  });
});
