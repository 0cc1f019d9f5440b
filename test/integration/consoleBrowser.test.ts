// The console in a real browser (Debian's chromium, headless, driven by
// puppeteer-core) against the real broker and registry: the page loads without
// console errors, shows the event managers, follows a rebalance when a member
// joins and a partition's restore, finds a subscriber and shows its presence
// change and its NOTIFYs without a reload, shows a group as a watcher of a
// role sees it, logs in and replays a generated capture through a real event
// manager, and shows a banner when Kafka is down. Screenshots of each view go
// to /tmp (not committed) for a person to look at. Only loopback traffic: every
// other host name fails to resolve in the browser, and the test checks the
// page asked for nothing else.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { RecordSerde } from '../../schemas/serde.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import type { MemberReport, Presence } from '../../schemas/generated/records.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { deadLetterRecord, memberReport, presenceRecord, presenceState, watcherState } from '../support/consoleRecords.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { group, member, teamPresence } from '../support/groupRecords.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { listCaptures } from '../../services/console/consoleReplay.ts';
import { MANAGE_SCOPE } from '../../services/console/consoleSessions.ts';
import { FIXTURES_DIR, groupPerspective } from '../../cli/commands/console.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import type { Group, GroupPresence } from '../../schemas/generated/records.ts';

const CHROMIUM = process.env.PRESENCE_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) process.stderr.write(`skipping the console browser test: no chromium at ${CHROMIUM} (apt-get install chromium, or set PRESENCE_CHROMIUM)\n`);
const SHOTS = process.env.PRESENCE_SCREENSHOTS ?? '/tmp';

const isolated = isolatedSettings('console-browser', 4);
// The replay runs through a real event manager, whose watcher rules live in a test schema.
const s = { ...isolated, database: { ...isolated.database, url: testDatabaseUrl } };
const rulesSchema = `it_console_browser_${process.pid}`;
const manager = newToken('ops', [MANAGE_SCOPE]);
let eventManager: EventManager | undefined;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const producer = new RecordProducer(s.kafka.brokers, 'it-console-browser');
let app: Console | undefined;
let browser: Browser | undefined;
let base = '';
const problems: string[] = [];
const requested: string[] = [];

const send = {
  member: (r: MemberReport) => producer.send(topicName(s.topics.prefix, 'event-manager-members'), r.memberId, serde.encode('event-manager-members', r)),
  presence: (p: Presence) => producer.send(topicName(s.topics.prefix, 'current-presence'), p.subscriber, serde.encode('current-presence', p)),
  group: (g: Group) => producer.send(topicName(s.topics.prefix, 'groups'), g.groupId, serde.encode('groups', g)),
  groupPresence: (gp: GroupPresence) => producer.send(topicName(s.topics.prefix, 'group-presence'), gp.groupId, serde.encode('group-presence', gp)),
};

async function newPage(): Promise<Page> {
  problems.length = 0;
  requested.length = 0;
  const page = await browser!.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('request', (r) => requested.push(r.url()));
  return page;
}

/** Waits until a browser-side expression is true (a string: the test's own types have no DOM). */
const until = (page: Page, expr: string, timeoutMs = 20_000) => page.waitForFunction(expr, { timeout: timeoutMs });
/**
 * Clicks what matches `selector` now, found and clicked in one step in the page: live lists
 * (groups, latest presence changes) are redrawn as events arrive, so an element handle taken
 * first can be detached by the time puppeteer clicks it ("Node is detached from document"),
 * and a form below them moves, so a click at the coordinates puppeteer measured lands elsewhere
 * (CI once lost the login click that way: no error ever shown).
 */
const clickLive = (page: Page, selector: string) =>
  until(page, `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.click(); return true; })()`);
const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');

describe.skipIf(!haveChromium)('the console in a headless browser', () => {
  beforeAll(async () => {
    await applyIsolated(s);
    await serde.loadIds();
    await producer.connect();
    await send.member(memberReport('em-1', [0, 1], { sipContact: 'sip:127.0.0.1:5071' }));
    await send.member(memberReport('em-2', [2, 3], { sipContact: 'sip:127.0.0.1:5072' }));
    app = await startConsole(s, {
      port: 0,
      host: '127.0.0.1',
      lag: { groupId: `${s.topics.prefix}${EVENT_MANAGER_GROUP}`, topics: EVENT_MANAGER_INPUTS, intervalMs: 1000 },
      groupPerspective: groupPerspective(s),
      management: { tokens: BearerTokens.parse(`${manager.line}\n`), captures: listCaptures([{ label: 'fixtures', dir: FIXTURES_DIR }]) },
    });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // --no-sandbox: the test runs as root in a container; the resolver rule keeps the browser on loopback.
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await eventManager?.stop().catch(() => {});
    await app?.stop();
    await producer.close();
    await cleanupIsolated(s);
    await dropSchema(rulesSchema);
  });

  it('shows the members, follows a rebalance and a subscriber live, without console errors', async () => {
    const page = await newPage();
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    await page.evaluate('window.loadedOnce = true');
    await until(page, `document.querySelector('#kafka-state')?.textContent === 'Kafka: reading'`, 60_000);
    await page.waitForSelector('.member[data-member-id="em-1"]', { timeout: 20_000 });
    await page.waitForSelector('.member[data-member-id="em-2"]');
    expect(await text(page, '.member[data-member-id="em-1"] .chips')).toBe('p0p1');

    // em-3 joins: em-1 gives up partition 1, em-3 reports it.
    await send.member(memberReport('em-1', [0], { sipContact: 'sip:127.0.0.1:5071' }));
    // em-3 restores p1's store first: the strip and its card show how far, the log says when it is done.
    await send.member(
      memberReport('em-3', [1], {
        restoring: [{ partition: 1, phase: 'reading-changelog', restoredRecords: 400, toRead: 1000, startedAt: Date.now() - 2000 }],
      }),
    );
    await page.waitForSelector('.member[data-member-id="em-3"] [data-restoring="1"]', { timeout: 20_000 });
    await until(page, `document.querySelector('#partition-strip [data-partition="1"]')?.textContent === '1 40%'`);
    expect(await text(page, '.member[data-member-id="em-3"] [data-restoring="1"]')).toMatch(/restoring p1: 400 of ≤1,000 records \(40%\)/);
    await page.screenshot({ path: `${SHOTS}/presence-console-restoring.png`, fullPage: true });
    await send.member(memberReport('em-3', [1]));
    await until(page, `document.querySelector('#moves')?.textContent?.includes('p1 restored at em-3')`);
    await until(page, `document.querySelector('#partition-strip [data-partition="1"]')?.textContent === '1'`);
    await until(page, `document.querySelector('#moves')?.textContent?.includes('p1 arrived at em-3')`);
    expect(await text(page, '#moves')).toContain('p1 left em-1');
    expect(await page.$eval('#partition-strip [data-partition="1"]', (el) => el.getAttribute('title'))).toBe('partition 1: em-3');

    // A subscriber: found, then its presence changes arrive on the page as they happen.
    const key = 'msisdn:+351910000456';
    await producer.send(
      topicName(s.topics.prefix, 'event-manager-presence-store-changelog'),
      key,
      serde.encode('event-manager-presence-store-changelog', presenceState(key, 3, [watcherState('sip:alice@example.com')])),
    );
    await page.type('#identity', '+351910000456');
    await page.click('#search button');
    await until(page, `document.querySelector('#subscriber-facts dd[data-field="key"]')?.textContent === '${key}'`, 30_000);
    await until(page, `document.querySelector('#subscriber-facts dd[data-field="owner"]')?.textContent?.startsWith('em-')`);
    await send.presence(presenceRecord(key, 1, { callState: 'idle' }));
    await until(page, `document.querySelector('#subscriber-presence dd[data-field="callState"]')?.textContent === 'idle'`);
    await send.presence(presenceRecord(key, 2, { callState: 'in-call', activities: 'on-the-phone', cellGlobalId: '268-01-1234-5678' }));
    await until(page, `document.querySelector('#subscriber-presence dd[data-field="callState"]')?.textContent === 'in-call'`);
    expect(await text(page, '#subscriber-presence dd[data-field="cellGlobalId"]')).toBe('268-01-1234-5678');
    await producer.send(
      topicName(s.topics.prefix, 'notify-requests'),
      key,
      serde.encode('notify-requests', notifyRecord({ presentity: key, toUri: 'sip:alice@example.com', cseq: 4 })),
    );
    await until(page, `document.querySelector('#subscriber-log')?.textContent?.includes('NOTIFY → sip:alice@example.com')`);
    await until(page, `document.querySelector('#subscriber-watchers tbody')?.textContent?.includes('sip:alice@example.com')`);
    expect(await page.evaluate('window.loadedOnce')).toBe(true); // never reloaded

    // Some flow, so the counters and the dead-letter table have something to show.
    for (let i = 0; i < 30; i++)
      await producer.send(
        topicName(s.topics.prefix, 'signaling-events'),
        key,
        serde.encode('signaling-events', mapEvent(key, 'updateLocation', 'invoke', Date.now(), {})),
      );
    await producer.send(
      topicName(s.topics.prefix, 'dead-letters'),
      null,
      serde.encode('dead-letters', deadLetterRecord('sccp', 'truncated', 'UDT shorter than its pointers')),
    );
    await until(page, `document.querySelector('#dead-letters tbody')?.textContent?.includes('truncated')`);
    await until(page, `document.querySelector('#by-message tbody')?.textContent?.includes('updateLocation')`);
    // No event manager consumes this prefix: all 30 events are the group's lag, on the subscriber's partition.
    await until(page, `document.querySelector('#lag-summary')?.textContent?.startsWith('lag 30 records')`);
    expect(await page.$eval('#lag-strip [data-partition="3"]', (el) => el.textContent)).toBe('30');
    await page.screenshot({ path: `${SHOTS}/presence-console.png`, fullPage: true });
    // One picture per view as well, for the README and for a person checking one view.
    for (const [view, file] of [
      ['#group-view', 'event-managers'],
      ['#flow-view', 'flow'],
      ['#subscriber-view', 'subscriber'],
    ] as const)
      await (await page.$(view))!.screenshot({ path: `${SHOTS}/presence-console-${file}.png` });

    expect(problems).toEqual([]);
    expect(requested.filter((u) => !u.startsWith(base))).toEqual([]);
    await page.close();
  });

  it('shows a group: its members with their visible presence, as the group and as a watcher of a role sees it', async () => {
    const boss = member(1, { role: 'manager', displayName: 'Boss', attributes: { 'receive-roles': 'same' } });
    const agent = member(2, { role: 'agent', displayName: 'Agent' });
    const shy = member(3, { role: 'agent', displayName: 'Shy', share: false });
    await send.group(group([boss, agent, shy], { groupId: 'g-browser', version: 1 }));
    await send.groupPresence(teamPresence('g-browser', 4, [boss, agent, shy]));
    const page = await newPage();
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#groups-list tr[data-group-id="g-browser"]', { timeout: 30_000 });
    await clickLive(page, '#groups-list tr[data-group-id="g-browser"]');
    await until(page, `document.querySelectorAll('#group-members tbody tr').length === 3`);
    expect(await text(page, `#group-members tr[data-member="${agent.uri}"]`)).toMatch(/agent.*active.*open.*on-the-phone.*at work.*shares all/);
    expect(await text(page, `#group-members tr[data-member="${shy.uri}"]`)).toMatch(/terminated \(rejected\).*does not share/);
    expect(await text(page, '#group-facts')).toContain('members-only');
    // Group presence writes a new version (the agent went offline): the page shows it without a click.
    await send.groupPresence(teamPresence('g-browser', 5, [boss, agent, shy], { closed: agent, activity: 'away', note: 'gone home' }));
    await until(page, `document.querySelector('#group-members tr[data-member="${agent.uri}"]')?.textContent?.includes('gone home')`);
    expect(await text(page, `#group-members tr[data-member="${agent.uri}"]`)).toMatch(/closed.*away/);
    // As a watcher of role manager (who receives only its own role): one member.
    await page.select('#group-viewer', 'role:manager');
    await until(page, `document.querySelectorAll('#group-members tbody tr').length === 1`);
    expect(await text(page, '#group-members tbody')).toContain(boss.uri);
    expect(await text(page, '#group-facts')).toMatch(/1 member\(s\) received, 2 left out/);
    await page.screenshot({ path: `${SHOTS}/presence-console-groups.png`, fullPage: true });
    // An outsider of a members-only group is refused.
    await page.type('#group-watcher', 'sip:stranger@example.org');
    await page.click('#group-as button');
    await until(page, `document.querySelector('#group-members tbody')?.textContent?.includes('refused: not-a-member')`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('logs in with a management token and replays a generated capture; the events go through a real event manager to a subscriber on the page', async () => {
    eventManager = await startEventManager(s, { memberId: 'browser-em', rulesSchema, membership: { reportIntervalMs: 1000 } });
    const page = await newPage();
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.member[data-member-id="browser-em"]', { timeout: 90_000 });
    await page.waitForSelector('#login:not([hidden])');
    // A token without the scope is refused on the page, with the reason.
    await page.type('#token', 'not-a-token');
    await clickLive(page, '#login button');
    await until(page, `!document.querySelector('#replay-error').hidden`);
    expect(await text(page, '#replay-error')).toMatch(/not valid/);
    await page.type('#token', manager.token);
    await clickLive(page, '#login button');
    await page.waitForSelector('#replay:not([hidden])', { timeout: 10_000 });
    expect(await text(page, '#login-state')).toMatch(/logged in as ops/);
    // The cookie is HttpOnly: the page's scripts cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.$eval('#token', (el) => (el as unknown as { value: string }).value)).toBe('');
    await page.select('#replay-capture', 'fixtures/map-m3ua.pcap');
    await page.$eval('#replay-speed', (el) => ((el as unknown as { value: string }).value = ''));
    await page.type('#replay-speed', 'max');
    await page.select('#replay-unknown', 'keep');
    await clickLive(page, '#replay button[type="submit"]');
    await until(page, `document.querySelector('#replay-status dd[data-field="state"]')?.textContent === 'done'`, 60_000);
    expect(Number(await text(page, '#replay-status dd[data-field="frames"]'))).toBe(148);
    await until(page, `document.querySelector('#by-message tbody')?.textContent?.includes('console-replay')`, 30_000);
    // The event manager derives presence from the replayed signaling: a change appears; following it shows the subscriber.
    await page.waitForSelector('#recent-presence li', { timeout: 90_000 });
    await clickLive(page, '#recent-presence li');
    await until(page, `document.querySelector('#subscriber-facts dd[data-field="owner"]')?.textContent === 'browser-em'`, 30_000);
    await until(page, `['open', 'closed'].includes(document.querySelector('#subscriber-presence dd[data-field="basic"]')?.textContent)`, 30_000);
    await page.screenshot({ path: `${SHOTS}/presence-console-replay.png`, fullPage: true });
    // The refused login is logged by the browser as a failed resource; nothing else may be.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    expect(requested.filter((u) => !u.startsWith(base))).toEqual([]);
    await page.close();
  });

  it('says so with a banner when Kafka is down, and the page still works', async () => {
    const down = await startConsole({ ...s, kafka: { ...s.kafka, brokers: '127.0.0.1:1' } }, { port: 0, host: '127.0.0.1', retryMs: 500 });
    try {
      const page = await newPage();
      const at = `http://127.0.0.1:${(down.server.address() as AddressInfo).port}`;
      await page.goto(`${at}/`, { waitUntil: 'domcontentloaded' });
      await until(page, `!document.querySelector('#banner').hidden`);
      expect(await text(page, '#banner')).toMatch(/Kafka is not readable.*127\.0\.0\.1:1/);
      expect(await text(page, '#kafka-state')).toBe('Kafka: down');
      // A search answers with the 503's reason on the page, not a broken page.
      await page.type('#identity', '+351910000456');
      await page.click('#search button');
      await until(page, `!document.querySelector('#search-error').hidden`, 10_000);
      expect(await text(page, '#search-error')).toMatch(/127\.0\.0\.1:1/);
      await page.screenshot({ path: `${SHOTS}/presence-console-kafka-down.png`, fullPage: true });
      // The 503 of the search is logged by the browser as a failed resource; nothing else may be.
      expect(problems.filter((p) => !/status of 503/.test(p))).toEqual([]);
      await page.close();
    } finally {
      await down.stop();
    }
  });
});
