// Watcher info (RFC 3857/3858) and consent (issue 16.4) through the event
// manager's handlers: the presentity's own presence.winfo dialog gets the full
// list, then a partial document each time a watcher appears pending, is
// approved, denied or leaves; a consent turns the pending dialog active (PIDF)
// or terminated;reason=rejected. State goes through its changelog record
// between records, as a restore would.
import { describe, expect, it } from 'vitest';
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import { applyWatcherInfo, parseWatcherInfo, type WatcherEntry } from '../../../presence-document/watcherInfo.ts';
import type { NotifyRequest, Subscription, WatcherConsent } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../managedSubscriber.ts';
import { EventManagerContext, type TopicHandler } from './context.ts';
import { subscriptions } from './subscriptions.ts';
import { watcherConsents } from './watcherConsents.ts';

const KEY = 'msisdn:+351910000001';
const URI = 'sip:+351910000001@ims.example.net';
const T = Date.UTC(2026, 0, 1, 8);

function harness() {
  const queue: unknown[] = [];
  const forgotten: string[] = [];
  const serde = { decode: async () => queue.shift(), encode: (_t: string, r: unknown) => Buffer.from(JSON.stringify(r)) } as unknown as RecordSerde;
  const rules = { decide: async () => 'confirm', forget: (_p: string, w: string) => void forgotten.push(w) } as unknown as WatcherRules;
  const ctx = new EventManagerContext(serde, rules, 'unit.', 'stream');
  let m: ManagedSubscriber = newSubscriber(KEY);
  const sent: NotifyRequest[] = [];
  const step = async (handler: TopicHandler, record: Subscription | WatcherConsent) => {
    queue.push(record);
    const out: OutputRecord[] = [];
    await handler.handle(ctx, 0, KEY, Buffer.alloc(1), m, out);
    m = fromStateRecord(toStateRecord(m));
    const mine = out.filter((o) => o.topic === 'unit.notify-requests').map((o) => JSON.parse(o.value!.toString()) as NotifyRequest);
    sent.push(...mine);
    return mine;
  };
  return { step, sent, forgotten, state: () => m };
}

const sub = (callId: string, watcherUri: string, event = 'presence', fields: Partial<Subscription> = {}) =>
  subscriptionRecord(KEY, callId, { receivedAt: T, presentityUri: URI, watcherUri, watcherTag: `w-${callId}`, localTag: `l-${callId}`, event, ...fields });
const consent = (watcher: string, decision: string, at = T + 5000): WatcherConsent => ({
  consentId: `c-${watcher}-${decision}`,
  presentity: KEY,
  watcher,
  decision,
  decidedAt: at,
  source: 'unit',
});
const winfoOf = (ns: NotifyRequest[]) => ns.filter((n) => n.event === 'presence.winfo');

describe('presence.winfo and consent in the event manager', () => {
  it('pending → approved → active, denied → rejected, each told to the winfo dialog with contiguous versions', async () => {
    const h = harness();
    // The presentity asks who watches it: the full (empty) list, version 0, active at once (no rule applies to itself).
    const [first] = await h.step(subscriptions, sub('own', URI, 'presence.winfo', { accept: ['application/watcherinfo+xml'] }));
    expect(first).toMatchObject({ event: 'presence.winfo', subscriptionState: 'active', contentType: 'application/watcherinfo+xml' });
    const view = applyWatcherInfo(new Map<string, WatcherEntry>(), parseWatcherInfo(first!.body!));
    expect(parseWatcherInfo(first!.body!)).toMatchObject({ version: 0, state: 'full', lists: [{ resource: URI, package: 'presence', watchers: [] }] });

    // Bob subscribes; the rule says confirm: his dialog is pending (no body), the presentity learns of him.
    const bobSub = await h.step(subscriptions, sub('bob', 'sip:bob@example.com'));
    expect(bobSub.map((n) => [n.callId, n.subscriptionState, n.body])).toEqual([
      ['bob', 'pending', null],
      ['own', 'active', expect.any(String)],
    ]);
    const pendingDoc = parseWatcherInfo(winfoOf(bobSub)[0]!.body!);
    expect(pendingDoc).toMatchObject({ version: 1, state: 'partial' });
    expect(pendingDoc.lists[0]!.watchers).toEqual([
      expect.objectContaining({ uri: 'sip:bob@example.com', status: 'pending', event: 'subscribe', expiration: 3600 }),
    ]);
    applyWatcherInfo(view, pendingDoc);

    // The presentity approves Bob (the API stored allow): his dialog becomes active with the PIDF; the winfo dialog says approved.
    const approved = await h.step(watcherConsents, consent('sip:bob@EXAMPLE.com', 'allow'));
    expect(h.forgotten).toEqual(['sip:bob@EXAMPLE.com']);
    const bobActive = approved.find((n) => n.callId === 'bob')!;
    expect(bobActive).toMatchObject({
      subscriptionState: 'active',
      contentType: 'application/pidf+xml',
      causeEventId: 'c-sip:bob@EXAMPLE.com-allow',
      version: 2,
    });
    expect(bobActive.body).toContain('<presence');
    const approvedDoc = parseWatcherInfo(winfoOf(approved)[0]!.body!);
    expect(approvedDoc.version).toBe(2);
    expect(approvedDoc.lists[0]!.watchers).toEqual([expect.objectContaining({ status: 'active', event: 'approved', expiration: 3595 })]);
    applyWatcherInfo(view, approvedDoc);
    expect([...view.values()].map((w) => [w.uri, w.status])).toEqual([['sip:bob@example.com', 'active']]);

    // Carol too is pending; the presentity denies her: terminated;reason=rejected, and she leaves the list.
    await h.step(subscriptions, sub('carol', 'sip:carol@example.com'));
    const denied = await h.step(watcherConsents, consent('sip:carol@example.com', 'block'));
    expect(denied.find((n) => n.callId === 'carol')).toMatchObject({ subscriptionState: 'terminated', reason: 'rejected', body: null });
    const deniedDoc = parseWatcherInfo(winfoOf(denied)[0]!.body!);
    expect(deniedDoc.lists[0]!.watchers).toEqual([expect.objectContaining({ uri: 'sip:carol@example.com', status: 'terminated', event: 'rejected' })]);
    expect([...h.state().watchers.values()].map((d) => d.callId).sort()).toEqual(['bob', 'own']);

    // An answer about nobody pending changes nothing and tells nobody.
    expect(await h.step(watcherConsents, consent('sip:dave@example.com', 'allow'))).toEqual([]);

    // Bob leaves: timeout. The presentity's refresh gets the full list again (Bob gone), at the next version.
    const left = await h.step(subscriptions, sub('bob', 'sip:bob@example.com', 'presence', { cseq: 2, expires: 0, receivedAt: T + 9000 }));
    expect(parseWatcherInfo(winfoOf(left)[0]!.body!).lists[0]!.watchers).toEqual([expect.objectContaining({ status: 'terminated', event: 'timeout' })]);
    const [refresh] = await h.step(subscriptions, sub('own', URI, 'presence.winfo', { cseq: 2, receivedAt: T + 10_000 }));
    expect(parseWatcherInfo(refresh!.body!)).toMatchObject({ state: 'full', lists: [{ watchers: [] }] });

    // Every winfo document in order, no version skipped: a client following them never needs to ask again.
    const versions = winfoOf(h.sent).map((n) => parseWatcherInfo(n.body!).version);
    expect(versions).toEqual(versions.map((_, i) => i));
    const client = new Map<string, WatcherEntry>();
    for (const n of winfoOf(h.sent)) applyWatcherInfo(client, parseWatcherInfo(n.body!));
    expect(client.size).toBe(0);
  });

  it('a polite block turns an active watcher to the closed stand-in; a domain rule answers all its watchers', async () => {
    const h = harness();
    await h.step(subscriptions, sub('x1', 'sip:x1@corp.example'));
    await h.step(subscriptions, sub('x2', 'sip:x2@corp.example'));
    const both = await h.step(watcherConsents, consent('*@corp.example', 'allow-presence'));
    expect(both.map((n) => [n.callId, n.subscriptionState])).toEqual([
      ['x1', 'active'],
      ['x2', 'active'],
    ]);
    const polite = await h.step(watcherConsents, consent('sip:x1@corp.example', 'polite-block'));
    expect(polite).toHaveLength(1);
    expect(polite[0]!.body).toContain('<basic>closed</basic>');
  });

  it('a consent with a decision it does not know is bad input (dead-lettered by the loop), never a guess', async () => {
    const h = harness();
    await h.step(subscriptions, sub('x1', 'sip:x1@corp.example'));
    await expect(h.step(watcherConsents, consent('sip:x1@corp.example', 'maybe'))).rejects.toThrow(/consent decision must be one of/);
    expect(h.state().watchers.get('x1\u0000w-x1')!.state).toBe('pending');
  });
});
