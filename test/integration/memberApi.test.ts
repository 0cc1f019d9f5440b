// Asking the running system (issue 14.7): the event manager that owns a
// subscriber answers from its store — who watches it (dialogs with CSeq,
// version, expiry), its presence — over its member API, advertised in its
// member reports, so `presence locate` and `presence watchers` ask the owner
// instead of scanning a compacted topic. Personal data: bearer token needed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locate } from '../../coordinator/locator.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { startMemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import { repoRoot } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { eventually } from '../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('member API', () => {
  it('answers who watches a subscriber, from the owner’s store, to locate and presence watchers', async () => {
    const base = isolatedSettings('member-api', 2);
    const { token, line } = newToken('ops', ['subscribers:read']);
    const tokensFile = path.join(mkdtempSync(path.join(tmpdir(), 'presence-tokens-')), 'tokens');
    writeFileSync(tokensFile, `${line}\n`);
    const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, http: { ...base.http, tokensFile, token } };
    await applyIsolated(s);
    const rulesSchema = `it_member_api_${process.pid}`;
    const producer = new RecordProducer(s.kafka.brokers, 'it-member-api', 15_000);
    await producer.connect();
    cleanups.push(async () => {
      await producer.close();
      await dropSchema(rulesSchema);
      await cleanupIsolated(s);
    });

    const api = await startMemberApi(s, {
      memberId: 'em-api-1',
      port: 0,
      host: '127.0.0.1',
      tokens: BearerTokens.load(tokensFile),
    });
    cleanups.push(() => api.close());
    const em = await startEventManager(s, { memberId: 'em-api-1', rulesSchema, membership: { httpUrl: api.url, reportIntervalMs: 500 } });
    cleanups.push(() => em.stop());
    api.serve(em);
    await eventually('both partitions restored', () => em.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });

    const key = 'msisdn:+351910000077';
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    await producer.send(
      topicName(s.topics.prefix, 'subscriptions'),
      key,
      serde.encode('subscriptions', subscriptionRecord(key, 'api-dialog-1', { watcherUri: 'sip:watcher@example.com', expires: 600 })),
    );
    await eventually('the SUBSCRIBE applied', () => em.stats.subscribes >= 1, { timeoutMs: 30_000 });

    const get = (p: string, auth = true) => fetch(`${api.url}${p}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await get(`/subscribers/${encodeURIComponent(key)}`, false)).status).toBe(401);
    const res = await get(`/subscribers/${encodeURIComponent(key)}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as { memberId: string; key: string; watchers: Array<Record<string, unknown>>; presence: { subscriber: string } };
    expect(view).toMatchObject({ memberId: 'em-api-1', key, presence: { subscriber: key } });
    expect(view.watchers).toEqual([
      expect.objectContaining({ callId: 'api-dialog-1', watcherUri: 'sip:watcher@example.com', state: 'active', decision: 'allow', notifyCseq: 1, version: 1 }),
    ]);
    expect((await get(`/subscribers/${encodeURIComponent('msisdn:+351910000078')}`)).status).toBe(404);
    expect((await get('/stats', false)).status).toBe(200);

    // locate asks the owner named by the member reports.
    const loc = await eventually(
      'the report naming the API',
      async () => {
        const l = await locate(s, key);
        return l.owner?.httpUrl === api.url ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(loc).toMatchObject({ key, presenceFrom: 'owner', presence: { subscriber: key } });

    // The operator's command.
    // Not spawnSync: the member API answering it runs in this process.
    const out = await promisify(execFile)(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'watchers', key, '--no-directory'], {
      env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: '2', PRESENCE_HTTP_TOKEN: token },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain(`${key}: 1 watcher dialog(s), held by em-api-1`);
    expect(out.stdout).toMatch(/sip:watcher@example\.com\s+active\s+allow\s+cseq\s+1 v1/);
  }, 180_000);
});
