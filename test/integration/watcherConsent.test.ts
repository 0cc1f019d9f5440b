// Consent for "subject to authorisation" on the real stack (issue 16.4): Kafka,
// the registry, PostgreSQL, an event manager with its member API, a SIP front
// end, the notify sink, and two SIP UAs over UDP. The rules' default is
// confirm. Alice (the presentity) SUBSCRIBEs to presence.winfo and gets the
// full watcher list; Bob SUBSCRIBEs to her presence and is pending (a NOTIFY
// with Subscription-State: pending and no body) while Alice's winfo dialog is
// told of him; the availability HTTP API lists him as pending; Alice approves
// him there — his dialog gets an active NOTIFY with her PIDF and her winfo
// dialog a new version saying approved. Carol is denied: terminated;reason=rejected.
// Bob asking for Alice's watchers is refused (403). Then the same with SIPp
// (sip-tester) as both UAs, its scenarios checking each NOTIFY's
// Subscription-State, Content-Type and document (skipped without sipp).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { parseWatcherInfo, type WatcherInfoDocument } from '../../presence-document/watcherInfo.ts';
import { startProfilesHttpApi } from '../../services/availability-service/profilesHttpApi.ts';
import { WatcherConsentService } from '../../services/availability-service/watcherConsents.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startMemberApi, type MemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { freeUdpPort } from '../support/ports.ts';
import { receiveNotify, scenarioXml, subscribeRequest } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp winfo test is skipped');
const ALICE = 'sip:alice@ims.test';
const base = isolatedSettings('winfo', 2);
const s = {
  ...base,
  database: { ...base.database, url: testDatabaseUrl },
  identity: { ...base.identity, unknownSubscribers: 'keep' as const },
  eventManager: { ...base.eventManager, defaultWatcherDecision: 'confirm' as const },
};
const rulesSchema = `it_winfo_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;

let api: MemberApi | undefined;
let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let consents: WatcherConsentService | undefined;
let http: Server | undefined;
let profiles: AvailabilityStore | undefined;
let alice: StrictWatcher | undefined;
let bob: StrictWatcher | undefined;
let carol: StrictWatcher | undefined;
let httpBase = '';

/** A SUBSCRIBE sent from the UA's own socket (NOTIFYs come back over that flow). */
function subscribe(ua: StrictWatcher, from: string, callId: string, event: string, accept: string): void {
  ua.subscribe({ to: ALICE, from, callId, port: fe!.port, host: HOST, event, accept });
}

const answered = (ua: StrictWatcher, callId: string) => ua.responses.find((r) => r.callId === callId)?.status;
const winfoDocs = (callId: string): WatcherInfoDocument[] => alice!.accepted(callId).map((n) => parseWatcherInfo(n.body));

beforeAll(async () => {
  await applyIsolated(s);
  api = await startMemberApi(s, { memberId: `em-winfo-${run}`, port: 0, host: HOST });
  em = await startEventManager(s, { memberId: `em-winfo-${run}`, rulesSchema, membership: { httpUrl: api.url, reportIntervalMs: 500 } });
  api.serve(em);
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-winfo-${run}`, groups: false });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  consents = new WatcherConsentService(s, new WatcherRules(s.database.url, s.eventManager.defaultWatcherDecision, rulesSchema, 0));
  await consents.start();
  profiles = new AvailabilityStore(s.database.url, rulesSchema);
  http = await startProfilesHttpApi({ store: profiles, settings: s, consents }, 0, HOST);
  httpBase = `http://${HOST}:${(http.address() as AddressInfo).port}`;
  [alice, bob, carol] = await Promise.all([StrictWatcher.open(), StrictWatcher.open(), StrictWatcher.open()]);
  await eventually('both partitions restored', () => em!.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
  if (http) {
    http.closeAllConnections();
    await new Promise((r) => http!.close(r));
  }
  await consents?.close();
  await profiles?.close();
  await fe?.stop();
  await em?.stop();
  await api?.close();
  await sink?.stop();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
}, 120_000);

describe('watcher info and consent over SIP (RFC 3857/3858, issue 16.4)', () => {
  it('pending → approved → active NOTIFYs, told to the presentity’s winfo dialog; a denied watcher is rejected', async () => {
    const winfo = `winfo-${run}`;
    subscribe(alice!, ALICE, winfo, 'presence.winfo', 'application/watcherinfo+xml');
    await eventually('Alice’s winfo SUBSCRIBE answered 200', () => answered(alice!, winfo) === 200, { timeoutMs: 15_000 });
    await eventually('the full watcher list', () => alice!.accepted(winfo).length >= 1, { timeoutMs: 60_000, intervalMs: 100 });
    expect(alice!.accepted(winfo)[0]!.subscriptionState).toMatch(/^active/);
    expect(winfoDocs(winfo)[0]).toMatchObject({ version: 0, state: 'full', lists: [{ resource: ALICE, package: 'presence', watchers: [] }] });

    // Only the presentity may see its watchers.
    const nosy = `nosy-${run}`;
    subscribe(bob!, 'sip:bob@ims.test', nosy, 'presence.winfo', 'application/watcherinfo+xml');
    await eventually('Bob’s winfo SUBSCRIBE answered', () => answered(bob!, nosy) !== undefined, { timeoutMs: 15_000 });
    expect(answered(bob!, nosy)).toBe(403);

    // Bob watches Alice: the default rule is confirm, so his subscription is pending.
    const watch = `bob-${run}`;
    subscribe(bob!, 'sip:bob@ims.test', watch, 'presence', 'application/pidf+xml');
    await eventually('Bob’s pending NOTIFY', () => bob!.accepted(watch).length >= 1, { timeoutMs: 30_000, intervalMs: 100 });
    expect(bob!.accepted(watch)[0]!.subscriptionState).toMatch(/^pending/);
    expect(bob!.accepted(watch)[0]!.body).toBe('');
    await eventually('Alice told of Bob', () => winfoDocs(winfo).length >= 2, { timeoutMs: 30_000, intervalMs: 100 });
    expect(winfoDocs(winfo)[1]).toMatchObject({
      version: 1,
      state: 'partial',
      lists: [{ watchers: [expect.objectContaining({ uri: 'sip:bob@ims.test', status: 'pending', event: 'subscribe' })] }],
    });

    // The HTTP API lists him as pending, asked of the event manager that owns Alice.
    const pending = await eventually(
      'Bob listed as pending',
      async () => {
        const r = await fetch(`${httpBase}/subscribers/${encodeURIComponent(ALICE)}/watchers?status=pending`);
        if (r.status !== 200) return undefined;
        const body = (await r.json()) as { watchers: Array<{ watcher: string }> };
        return body.watchers.length ? body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(pending.watchers).toEqual([expect.objectContaining({ watcher: 'sip:bob@ims.test', event: 'presence', state: 'pending', decision: 'confirm' })]);

    // Alice approves Bob: within a second or so his dialog is active with her PIDF.
    const asked = Date.now();
    const approve = await fetch(`${httpBase}/subscribers/${encodeURIComponent(ALICE)}/watchers/${encodeURIComponent('sip:bob@ims.test')}/approve`, {
      method: 'POST',
    });
    expect(approve.status).toBe(200);
    await eventually('Bob’s active NOTIFY', () => bob!.accepted(watch).length >= 2, { timeoutMs: 30_000, intervalMs: 20 });
    const tookMs = bob!.accepted(watch)[1]!.at - asked;
    console.log(`approve → Bob's active NOTIFY: ${tookMs} ms`);
    expect(tookMs).toBeLessThan(5000);
    const active = bob!.accepted(watch)[1]!;
    expect(active.subscriptionState).toMatch(/^active/);
    expect(active.body).toContain('<presence');
    expect(active.body).toContain(`entity="${ALICE}"`);
    await eventually('Alice told Bob is approved', () => winfoDocs(winfo).length >= 3, { timeoutMs: 30_000, intervalMs: 50 });
    expect(winfoDocs(winfo)[2]).toMatchObject({
      version: 2,
      state: 'partial',
      lists: [{ watchers: [expect.objectContaining({ uri: 'sip:bob@ims.test', status: 'active', event: 'approved' })] }],
    });

    // Carol is pending too, and denied: her subscription ends rejected, and Alice's list says so.
    const carolWatch = `carol-${run}`;
    subscribe(carol!, 'sip:carol@ims.test', carolWatch, 'presence', 'application/pidf+xml');
    await eventually('Carol’s pending NOTIFY', () => carol!.accepted(carolWatch).length >= 1, { timeoutMs: 30_000, intervalMs: 100 });
    const deny = await fetch(`${httpBase}/subscribers/${encodeURIComponent(ALICE)}/watchers/${encodeURIComponent('sip:carol@ims.test')}/deny`, {
      method: 'POST',
    });
    expect(deny.status).toBe(200);
    await eventually('Carol’s terminated NOTIFY', () => carol!.accepted(carolWatch).length >= 2, { timeoutMs: 30_000, intervalMs: 50 });
    expect(carol!.accepted(carolWatch)[1]!.subscriptionState).toMatch(/^terminated;\s*reason=rejected/);
    await eventually('Alice told Carol came and went', () => winfoDocs(winfo).length >= 5, { timeoutMs: 30_000, intervalMs: 50 });
    expect(
      winfoDocs(winfo)
        .slice(3)
        .map((d) => [d.version, d.lists[0]!.watchers[0]!.status, d.lists[0]!.watchers[0]!.event]),
    ).toEqual([
      [3, 'pending', 'subscribe'],
      [4, 'terminated', 'rejected'],
    ]);
    // Every NOTIFY of each dialog accepted in order (no CSeq went backwards).
    for (const ua of [alice!, bob!, carol!]) expect(ua.backwards).toEqual([]);
  });

  it.skipIf(!HAVE_SIPP)('with SIPp as both UAs: the watcher pending → active, the presentity’s winfo full → pending → approved', async () => {
    const dora = 'sip:dora@ims.test';
    const header = (name: string, regexp: string, v: string) => `<ereg regexp="${regexp}" search_in="hdr" header="${name}:" check_it="true" assign_to="${v}"/>`;
    const body = (regexp: string, v: string) => `<ereg regexp="${regexp}" search_in="body" check_it="true" assign_to="${v}"/>`;
    const linger = '\n  <pause milliseconds="1500"/>';
    // Each UA is two SIPps: a UAC that SUBSCRIBEs (a SIPp UAC sends everything, answers too, to its command-line
    // target) and a UAS at the SUBSCRIBE's Contact that receives the NOTIFYs and answers where they came from.
    const winfoNotifies = scenarioXml(
      'presentity watching its watchers',
      receiveNotify(
        [header('Subscription-State', '^ *active', 'a1'), header('Content-Type', 'application/watcherinfo\\+xml', 'c1'), body('state=.full.', 'b1')],
        {
          crlf: true,
        },
      ) +
        receiveNotify([body('version=.1. state=.partial.', 'b2'), body('status=.pending. event=.subscribe.[^>]*>sip:erin@ims.test&lt;', 'b3')]) +
        receiveNotify([body('version=.2. state=.partial.', 'b4'), body('status=.active. event=.approved.[^>]*>sip:erin@ims.test&lt;', 'b5')]) +
        linger,
      ['a1', 'c1', 'b1', 'b2', 'b3', 'b4', 'b5'],
    );
    const watcherNotifies = scenarioXml(
      'watcher awaiting consent',
      receiveNotify([header('Subscription-State', '^ *pending', 's1')], { crlf: true }) +
        receiveNotify([
          header('Subscription-State', '^ *active', 's2'),
          header('Content-Type', 'application/pidf\\+xml', 'c2'),
          body('entity=.sip:dora@ims.test.', 'e2'),
        ]) +
        linger,
      ['s1', 's2', 'c2', 'e2'],
    );
    const uas = async (scenario: string) => {
      const port = await freeUdpPort(HOST);
      return { port, sipp: startSipp({ scenario, args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', '1'], deadlineMs: 60_000 }) };
    };
    const uac = async (from: string, tag: string, event: string, accept: string, notifiesAt: number) =>
      startSipp({
        scenario: scenarioXml(
          `${from} subscribing to ${event}`,
          subscribeRequest({ uri: dora, from, fromTag: `${tag}-${run}`, event, accept, expires: 600, contact: `sip:ua@${HOST}:${notifiesAt}` }) +
            '\n  <recv response="200"/>',
        ),
        args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-t', 'u1', '-m', '1'],
        deadlineMs: 15_000,
      });
    const presentityUas = await uas(winfoNotifies);
    const watcherUas = await uas(watcherNotifies);
    const subscribed = await (await uac(dora, 'dora', 'presence.winfo', 'application/watcherinfo+xml', presentityUas.port)).done;
    expect(subscribed, `presentity SUBSCRIBE: sipp exit ${subscribed.code}: ${subscribed.errors}`).toMatchObject({ code: 0 });
    const watching = await (await uac('sip:erin@ims.test', 'erin', 'presence', 'application/pidf+xml', watcherUas.port)).done;
    expect(watching, `watcher SUBSCRIBE: sipp exit ${watching.code}: ${watching.errors}`).toMatchObject({ code: 0 });
    await eventually(
      'Erin pending',
      async () => {
        const r = await fetch(`${httpBase}/subscribers/${encodeURIComponent(dora)}/watchers?status=pending`);
        return r.status === 200 && ((await r.json()) as { watchers: unknown[] }).watchers.length === 1;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const approve = await fetch(`${httpBase}/subscribers/${encodeURIComponent(dora)}/watchers/${encodeURIComponent('sip:erin@ims.test')}/approve`, {
      method: 'POST',
    });
    expect(approve.status).toBe(200);
    const [w, p] = await Promise.all([watcherUas.sipp.done, presentityUas.sipp.done]);
    expect(w, `watcher's NOTIFYs: sipp exit ${w.code}: ${w.errors}`).toMatchObject({ code: 0 });
    expect(p, `presentity's NOTIFYs: sipp exit ${p.code}: ${p.errors}`).toMatchObject({ code: 0 });
  });
});
