// Availability profiles on the real PostgreSQL (own schema, dropped after): stored
// validated, activated in a transaction, looked up in batches over the earlier
// single-mode settings, migrated idempotently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { DEFAULT_PROFILES, profilesFromSettings } from '../../subscriber/availability/settingsProfile.ts';
import { ProfileValidationError } from '../../subscriber/availability/profileValidation.ts';
import { PROFESSIONAL } from '../support/availabilityProfiles.ts';

const schema = `it_profiles_${process.pid}`;
const store = new AvailabilityStore(testDatabaseUrl, schema, 0);
const A = 'msisdn:+33600000001';
const B = 'msisdn:+33600000002';
const C = 'msisdn:+33600000003';

beforeAll(async () => {
  await store.migrate();
  await store.migrate(); // idempotent: an event manager and the CLI both migrate at start
});
afterAll(async () => {
  await store.close();
  await dropSchema(schema);
});

describe('availability profiles store', () => {
  it('profiles over the earlier settings over the default, in one batch lookup', async () => {
    await store.set(A, { mode: 'busy', forwardTo: '+33100000000' });
    await store.setProfiles(A, JSON.parse(JSON.stringify(PROFESSIONAL)));
    await store.set(B, { mode: 'away', screening: 'contacts-only' });
    const got = await store.getMany([A, B, C, 'msisdn:\u0000']);
    expect(got.get(A)).toEqual(PROFESSIONAL);
    expect(got.get(B)).toEqual(profilesFromSettings({ mode: 'away', screening: 'contacts-only' }));
    expect(got.get(C)).toEqual(DEFAULT_PROFILES);
    expect(got.get('msisdn:\u0000')).toEqual(DEFAULT_PROFILES);
  });

  it('refuses invalid profiles naming the field, and stores nothing', async () => {
    const bad = { ...JSON.parse(JSON.stringify(PROFESSIONAL)), active: 'holiday' };
    await expect(store.setProfiles(C, bad)).rejects.toMatchObject({ name: 'ProfileValidationError', field: 'active' });
    expect((await store.getMany([C])).get(C)).toEqual(DEFAULT_PROFILES);
  });

  it('activates a profile and sets or clears its manual mode', async () => {
    const personal = await store.activate(A, 'personal');
    expect(personal.active).toBe('personal');
    expect((await store.getMany([A])).get(A)!.active).toBe('personal');
    const manual = await store.activate(A, 'professional', 'meeting');
    expect(manual.profiles[1]).toMatchObject({ name: 'professional', manualMode: 'meeting' });
    const cleared = await store.activate(A, 'professional', null);
    expect(cleared.profiles[1]!.manualMode).toBeUndefined();
    await expect(store.activate(A, 'holiday')).rejects.toMatchObject({ field: 'active' });
    await expect(store.activate(A, 'professional', 'lunch')).rejects.toMatchObject({ field: 'profiles[1].manualMode' });
    await expect(store.activate(C, 'personal')).rejects.toBeInstanceOf(ProfileValidationError);
    expect((await store.getMany([A])).get(A)!.active).toBe('professional');
  });

  it('every effective change is versioned into the outbox with the profiles before it, in commit order', async () => {
    const D = 'msisdn:+33600000004';
    const outbox = async () =>
      (
        await store.pool.query<{ subscriber: string; version: string; record: { version: number; cause: string; profiles: unknown; previous: unknown } }>(
          'select subscriber, version, record from availability_outbox where subscriber = $1 order by seq',
          [D],
        )
      ).rows;
    await store.set(D, { mode: 'busy' });
    await store.setProfiles(D, JSON.parse(JSON.stringify(PROFESSIONAL)));
    await store.activate(D, 'personal');
    // Superseded by the profiles row: the earlier settings change nothing in force, so nothing is relayed.
    await store.set(D, { mode: 'away' });
    const rows = await outbox();
    expect(rows.map((r) => r.record.cause)).toEqual(['settings', 'profiles', 'activation']);
    expect(rows[0]!.record).toMatchObject({ previous: DEFAULT_PROFILES, profiles: profilesFromSettings({ mode: 'busy', screening: 'none' }) });
    expect(rows[1]!.record).toMatchObject({ previous: profilesFromSettings({ mode: 'busy', screening: 'none' }), profiles: PROFESSIONAL });
    expect(rows[2]!.record).toMatchObject({ previous: PROFESSIONAL, profiles: { ...PROFESSIONAL, active: 'personal' } });
    const versions = rows.map((r) => Number(r.version));
    expect(versions.map((v, i) => v === rows[i]!.record.version)).toEqual([true, true, true]);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
    // A refused change leaves no row.
    await expect(store.activate(D, 'holiday')).rejects.toMatchObject({ field: 'active' });
    expect(await outbox()).toHaveLength(3);
  });

  it('concurrent activations both take effect (serialized by the subscriber’s lock, no lost update)', async () => {
    for (let i = 0; i < 5; i++) {
      await store.activate(A, 'professional', null);
      await Promise.all([store.activate(A, 'personal'), store.activate(A, 'professional', 'meeting')]);
      const got = (await store.getMany([A])).get(A)!;
      expect(got.profiles[1]!.manualMode).toBe('meeting');
    }
  });
});
