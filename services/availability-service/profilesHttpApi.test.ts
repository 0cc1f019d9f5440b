// The availability service's HTTP API: profiles put, read and activated through
// an in-memory store (the PostgreSQL store has its own integration test), 400s
// naming the field, 404, tokens; and its OpenAPI document walked against the
// server with the database a closed port (503 where it is needed).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { parseUserProfiles, ProfileValidationError } from '../../subscriber/availability/profileValidation.ts';
import { DEFAULT_PROFILES } from '../../subscriber/availability/settingsProfile.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../test/support/openApiCheck.ts';
import { PROFESSIONAL } from '../../test/support/availabilityProfiles.ts';
import { availabilityServiceOpenApi } from './openapi.ts';
import { startProfilesHttpApi, type ProfileStore } from './profilesHttpApi.ts';

/** The store's contract in memory: validated documents by subscriber key. */
function memoryStore(): ProfileStore {
  const rows = new Map<string, UserProfiles>();
  return {
    ping: async () => {},
    getMany: async (keys: string[]) => new Map(keys.map((k) => [k, rows.get(k) ?? DEFAULT_PROFILES])),
    setProfiles: async (k: string, raw: unknown) => {
      const p = parseUserProfiles(raw);
      rows.set(k, p);
      return p;
    },
    activate: async (k: string, profile: string, manualMode?: string | null) => {
      const cur = rows.get(k);
      if (!cur) throw new ProfileValidationError('subscriber', `${k} has no profiles (set them first)`);
      const next = parseUserProfiles({
        ...cur,
        active: profile,
        profiles: cur.profiles.map((p) => (p.name === profile && manualMode !== undefined ? { ...p, manualMode } : p)),
      });
      rows.set(k, next);
      return next;
    },
  } as ProfileStore;
}

const reader = newToken('portal', ['profiles:read']);
const admin = newToken('provisioning', ['profiles:read', 'profiles:manage']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };
const closed = new AvailabilityStore('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
const servers: http.Server[] = [];
let live: string;
let down: string;

beforeAll(async () => {
  const tokens = BearerTokens.parse(`${reader.line}\n${admin.line}\n`);
  const settings = loadSettings();
  const a = await startProfilesHttpApi({ store: memoryStore(), settings, tokens, maxBodyBytes: 64 * 1024 }, 0);
  const b = await startProfilesHttpApi({ store: closed, settings, tokens }, 0);
  servers.push(a, b);
  live = `http://127.0.0.1:${(a.address() as AddressInfo).port}`;
  down = `http://127.0.0.1:${(b.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await closed.close();
});

const profilesOf = (base: string, who: string) => `${base}/subscribers/${encodeURIComponent(who)}/profiles`;

describe('availability service HTTP API', () => {
  it('puts, reads and activates profiles; the subscriber is normalised to its key', async () => {
    const put = await fetch(profilesOf(live, 'tel:+33600000001'), {
      method: 'PUT',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify(PROFESSIONAL),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ subscriber: 'msisdn:+33600000001', ...PROFESSIONAL });
    const got = await fetch(profilesOf(live, 'msisdn:+33600000001'), { headers: bearer(reader.token) });
    expect(((await got.json()) as UserProfiles).active).toBe('professional');
    const act = await fetch(`${profilesOf(live, 'msisdn:+33600000001')}/activation`, {
      method: 'POST',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify({ profile: 'professional', manualMode: 'meeting' }),
    });
    expect(act.status).toBe(200);
    expect(((await act.json()) as UserProfiles).profiles[1]).toMatchObject({ manualMode: 'meeting' });
    // Without profiles: the default (available) profile.
    const none = await fetch(profilesOf(live, 'msisdn:+33600000009'), { headers: bearer(reader.token) });
    expect(await none.json()).toEqual({ subscriber: 'msisdn:+33600000009', ...DEFAULT_PROFILES });
  });

  it('400 naming the field; 404 activating without profiles; 401 / 403 by token', async () => {
    const bad = structuredClone(PROFESSIONAL) as unknown as { profiles: Array<{ modes: Array<{ rules?: Array<{ from: string }> }> }> };
    bad.profiles[1]!.modes[0]!.rules![0]!.from = '9am';
    const put = await fetch(profilesOf(live, 'msisdn:+33600000002'), {
      method: 'PUT',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify(bad),
    });
    expect(put.status).toBe(400);
    expect(await put.json()).toMatchObject({ field: 'profiles[1].modes[0].rules[0].from' });
    const who = await fetch(profilesOf(live, 'not a number'), { headers: bearer(reader.token) });
    expect(who.status).toBe(400);
    expect(await who.json()).toMatchObject({ field: 'subscriber' });
    const act = (body: unknown, sub = 'msisdn:+33600000001') =>
      fetch(`${profilesOf(live, sub)}/activation`, { method: 'POST', headers: { ...json, ...bearer(admin.token) }, body: JSON.stringify(body) });
    expect(await (await act({ profile: 'holiday' })).json()).toMatchObject({ field: 'active' });
    expect(await (await act({ profile: 7 })).json()).toMatchObject({ field: 'profile' });
    expect(await (await act({ profile: 'professional', manualMode: 'lunch' })).json()).toMatchObject({ field: 'profiles[1].manualMode' });
    expect((await act({ profile: 'personal' }, 'msisdn:+33600000003')).status).toBe(404);
    expect((await fetch(profilesOf(live, 'msisdn:+33600000001'))).status).toBe(401);
    expect((await fetch(profilesOf(live, 'msisdn:+33600000001'), { method: 'PUT', headers: { ...json, ...bearer(reader.token) }, body: '{}' })).status).toBe(
      403,
    );
  });
});

describe('availability service OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1 and served as exported', async () => {
    expect(openApiProblems(availabilityServiceOpenApi)).toEqual([]);
    expect(await (await fetch(`${down}/openapi.json`)).json()).toEqual(availabilityServiceOpenApi);
  });

  it('every documented operation answers a documented status, and nothing the document lacks is routed', async () => {
    for (const headers of [{}, bearer(reader.token), bearer(admin.token)]) {
      const calls = await walkOpenApi(down, availabilityServiceOpenApi, headers);
      expect(calls.filter((c) => !c.ok)).toEqual([]);
    }
    const manage = await walkOpenApi(down, availabilityServiceOpenApi, bearer(admin.token));
    expect(manage.filter((c) => c.status === 503).length).toBe(manage.length - 1);
    expect(await undocumentedAnswers(down, availabilityServiceOpenApi, bearer(admin.token), ['/subscribers/x', '/subscribers/x/profiles/more'])).toEqual([]);
  });
});
