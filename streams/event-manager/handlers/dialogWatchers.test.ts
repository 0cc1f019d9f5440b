// Presence and dialog (BLF) watchers of one subscriber, through the event
// manager's handlers: each package's watchers are told only when their own
// document changed — a network change gives PIDF NOTIFYs and no dialog-info,
// a ringing call gives dialog-info — with contiguous versions per subscription.
import { describe, expect, it } from 'vitest';
import { parseDialogInfo } from '../../../presence-document/dialogInfo.ts';
import type { NotifyRequest, SignalingEvent, Subscription } from '../../../schemas/generated/records.ts';
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import { isupEvent, mapEvent, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { handlerContext, runHandlers } from '../../../test/support/handlerRun.ts';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { AvailabilityStore } from '../../../subscriber/availability/availabilityStore.ts';
import { DEFAULT_CONFIG } from '../presence/config.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { fireTimers } from './timers.ts';

const KEY = 'msisdn:+351910000001';
const URI = 'sip:+351910000001@ims.example.net';
const T = Date.UTC(2026, 0, 1, 8);

const notifies = (out: OutputRecord[]) => out.filter((o) => o.topic === 'unit.notify-requests').map((o) => JSON.parse(o.value!.toString()) as NotifyRequest);
const incoming = (msg: string, t: number, cause: number | null = null, presentation = 'allowed') =>
  isupEvent(KEY, msg, t, {
    cic: 7,
    opc: 100,
    dpc: 200,
    role: 'called',
    calling: '+351210000009',
    called: '+351910000001',
    cause,
    callingPresentation: presentation,
  });
const sub = (callId: string, event: string) =>
  subscriptionRecord(KEY, callId, { receivedAt: T, expires: 3600, presentityUri: URI, watcherTag: `w-${callId}`, localTag: `l-${callId}`, event });

async function run(records: Array<Subscription | SignalingEvent>, decision = 'allow', ctx = handlerContext([...records], () => decision)) {
  const { m, out } = await runHandlers(ctx, KEY, records);
  return { m, all: notifies(out), ctx };
}

describe('dialog watchers beside presence watchers', () => {
  it('a network change tells presence watchers only; the call tells dialog watchers trying → early → confirmed → terminated, versions contiguous', async () => {
    const { all } = await run([
      sub('p', 'presence'),
      sub('d', 'dialog'),
      mapEvent(KEY, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', opc: 1, dpc: 2 }, { eventId: 'ul' }),
      { ...incoming('IAM', T + 2000), eventId: 'iam' },
      { ...incoming('ACM', T + 2500), eventId: 'acm' },
      { ...incoming('ANM', T + 6000), eventId: 'anm' },
      { ...incoming('REL', T + 66_000, 16), eventId: 'rel' },
    ]);
    const dialog = all.filter((n) => n.callId === 'd');
    const presence = all.filter((n) => n.callId === 'p');
    expect(dialog.map((n) => n.causeEventId)).toEqual([expect.any(String), 'iam', 'acm', 'anm', 'rel']);
    expect(dialog.map((n) => n.version)).toEqual([1, 2, 3, 4, 5]);
    expect(dialog.every((n) => n.event === 'dialog' && n.contentType === 'application/dialog-info+xml')).toBe(true);
    const docs = dialog.map((n) => parseDialogInfo(n.body!));
    expect(docs.map((d) => d.version)).toEqual([1, 2, 3, 4, 5]);
    // Full state first, then only what changed (RFC 4235 §4.1).
    expect(docs.map((d) => d.state)).toEqual(['full', 'partial', 'partial', 'partial', 'partial']);
    expect(docs.map((d) => d.dialogs.map((x) => x.state))).toEqual([[], ['trying'], ['early'], ['confirmed'], ['terminated']]);
    expect(docs[2]!.dialogs[0]).toMatchObject({ direction: 'recipient', local: { identity: URI }, remote: { identity: 'tel:+351210000009' } });
    // The network change reached the presence watcher alone.
    expect(presence.map((n) => n.causeEventId)).toContain('ul');
    expect(dialog.map((n) => n.causeEventId)).not.toContain('ul');
    expect(presence.every((n) => n.event === 'presence' && n.contentType === 'application/pidf+xml')).toBe(true);
  });

  it('a restricted caller is hidden from the lamp; a polite-blocked watcher sees no calls', async () => {
    const hidden = await run([sub('d', 'dialog'), { ...incoming('IAM', T + 2000, null, 'restricted'), eventId: 'iam' }]);
    const doc = parseDialogInfo(hidden.all.at(-1)!.body!);
    expect(doc.dialogs[0]).toMatchObject({ state: 'trying', local: { identity: URI } });
    expect(doc.dialogs[0]!.remote).toBeUndefined();
    const polite = await run([sub('d', 'dialog'), { ...incoming('IAM', T + 2000), eventId: 'iam' }], 'polite-block');
    expect(polite.all.map((n) => parseDialogInfo(n.body!).dialogs)).toEqual([[], []]);
  });

  it('a polite-blocked presence watcher is told of a change with the closed stand-in, never the real document', async () => {
    const { all } = await run(
      [sub('p', 'presence'), mapEvent(KEY, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', opc: 1, dpc: 2 }, { eventId: 'ul' })],
      'polite-block',
    );
    expect(all.map((n) => n.causeEventId)).toEqual([expect.any(String), 'ul']);
    // The stand-in does not move with the subscriber: the change's NOTIFY carries the same closed document.
    expect(all[1]!.body).toBe(all[0]!.body);
    expect(all[1]!.body).toContain('<basic>closed</basic>');
    expect(all[1]!.body).not.toContain('attaching');
  });

  it('allow-presence: presence as allow, and the lamp follows the call without who, which way, how long or its Call-ID', async () => {
    const records = [
      sub('p', 'presence'),
      sub('d', 'dialog'),
      { ...incoming('IAM', T + 2000), eventId: 'iam' },
      { ...incoming('ANM', T + 6000), eventId: 'anm' },
      { ...incoming('REL', T + 66_000, 16), eventId: 'rel' },
    ];
    const allowed = await run(records.map((r) => ({ ...r })));
    const presenceOnly = await run(
      records.map((r) => ({ ...r })),
      'allow-presence',
    );
    const pidf = (all: NotifyRequest[]) => all.filter((n) => n.callId === 'p').map((n) => n.body);
    expect(pidf(presenceOnly.all)).toEqual(pidf(allowed.all));
    const lamp = presenceOnly.all.filter((n) => n.callId === 'd');
    expect(lamp.map((n) => n.version)).toEqual([1, 2, 3, 4]);
    const docs = lamp.map((n) => parseDialogInfo(n.body!));
    expect(docs.map((d) => [d.state, d.dialogs.map((x) => x.state)])).toEqual([
      ['full', []],
      ['partial', ['trying']],
      ['partial', ['confirmed']],
      ['partial', ['terminated']],
    ]);
    const ids = new Set(docs.flatMap((d) => d.dialogs.map((x) => x.id)));
    expect(ids.size).toBe(1); // one call, one stable id across the partial NOTIFYs
    // The entity is the watched URI itself, which the watcher named; nothing else of the call shows.
    for (const n of lamp)
      expect(n.body!.replace(/entity="[^"]*"/, '')).not.toMatch(/351210000009|351910000001|isup|initiator|recipient|duration|<local>|<remote>/);
    // The allowed watcher of the same call sees all of it: the test tells the two apart.
    expect(allowed.all.filter((n) => n.callId === 'd').at(-2)!.body).toMatch(/tel:\+351210000009/);
  });

  it('allow-presence with Event: dialog;call-id=…: the named call, still without its details', async () => {
    const sipCall = { callId: 'c9@p', from: 'sip:bob@example.org', to: 'sip:+351910000001@ims.example.net' };
    const filtered = { ...sub('d', 'dialog'), dialogFilter: { callId: 'c9@p', toTag: null, fromTag: null } };
    const ident = { identities: { imsi: null, msisdn: '+351910000001', aor: null } };
    const { all } = await run(
      [
        filtered,
        { ...sipRequest(KEY, 'INVITE', T + 1000, { ...sipCall, callId: 'other@p' }), eventId: 'other', ...ident },
        { ...sipRequest(KEY, 'INVITE', T + 2000, sipCall), eventId: 'inv', ...ident },
      ],
      'allow-presence',
    );
    expect(all.map((n) => n.causeEventId)).toEqual([expect.any(String), 'inv']);
    const doc = parseDialogInfo(all.at(-1)!.body!);
    expect(doc.dialogs).toHaveLength(1);
    expect(doc.dialogs[0]).toMatchObject({ state: 'trying' });
    expect(all.at(-1)!.body).not.toMatch(/c9@p|bob@example.org/);
  });

  it('a call whose release the taps never saw ends by the stuck-call timer: the lamp goes off', async () => {
    const { m, ctx } = await run([sub('d', 'dialog'), { ...incoming('IAM', T + 2000), eventId: 'iam' }, { ...incoming('ANM', T + 5000), eventId: 'anm' }]);
    const store = new PartitionStore<ManagedSubscriber>(0);
    store.put(KEY, m);
    store.commit();
    ctx.reschedule(0, KEY, m);
    ctx.advanceStream(0, T + 5000 + DEFAULT_CONFIG.stuckCallMs); // the partition's stream time moves on (other subscribers' signaling)
    const stores: ProcessContext<ManagedSubscriber> = { store: () => store, partitions: () => [0] };
    const out = await fireTimers(ctx, { getMany: async () => new Map() } as unknown as AvailabilityStore, stores);
    const [ended] = notifies(out).filter((n) => n.callId === 'd');
    expect(ended).toMatchObject({ event: 'dialog', version: 4 });
    expect(parseDialogInfo(ended!.body!).dialogs.map((d) => d.state)).toEqual(['terminated']);
  });
});

describe('dialog watchers: partial state and one-dialog subscriptions', () => {
  const sip = (e: SignalingEvent, eventId: string) => ({ ...e, eventId, identities: { imsi: null, msisdn: '+351910000001', aor: null } });
  const call = (callId: string) => ({ callId, from: 'sip:bob@example.org', to: 'sip:+351910000001@ims.example.net' });

  it('a refresh gets full state again, with the version going on; changes between are partial and list only the changed call', async () => {
    const { all } = await run([
      sub('d', 'dialog'),
      { ...incoming('IAM', T + 1000), eventId: 'iam' },
      sip(sipRequest(KEY, 'INVITE', T + 2000, call('c2@p')), 'inv'),
      { ...sub('d', 'dialog'), cseq: 2, requestId: 'refresh' },
      sip(sipResponse(KEY, 'INVITE', 180, T + 3000, call('c2@p')), 'ring'),
    ]);
    const docs = all.map((n) => parseDialogInfo(n.body!));
    expect(docs.map((d) => [d.version, d.state, d.dialogs.map((x) => `${x.id}:${x.state}`)])).toEqual([
      [1, 'full', []],
      [2, 'partial', ['isup-100-200-7:trying']],
      [3, 'partial', ['sip-c2@p:trying']],
      [4, 'full', ['isup-100-200-7:trying', 'sip-c2@p:trying']],
      [5, 'partial', ['sip-c2@p:early']],
    ]);
  });

  it('Event: dialog;call-id=…: the watcher hears its one call, full then partial, and nothing of the others', async () => {
    const one = { ...sub('one', 'dialog'), dialogFilter: { callId: 'c2@p', toTag: null, fromTag: null } };
    const { all } = await run([
      one,
      sub('d', 'dialog'),
      { ...incoming('IAM', T + 1000), eventId: 'iam' },
      sip(sipRequest(KEY, 'INVITE', T + 2000, call('c2@p')), 'inv'),
      sip(sipResponse(KEY, 'INVITE', 200, T + 3000, call('c2@p')), 'ok'),
      { ...incoming('ACM', T + 4000), eventId: 'acm' },
    ]);
    const mine = all.filter((n) => n.callId === 'one');
    expect(mine.map((n) => n.causeEventId)).toEqual([expect.any(String), 'inv', 'ok']);
    const docs = mine.map((n) => parseDialogInfo(n.body!));
    expect(docs.map((d) => [d.version, d.state, d.dialogs.map((x) => `${x.callId}:${x.state}`)])).toEqual([
      [1, 'full', []],
      [2, 'partial', ['c2@p:trying']],
      [3, 'partial', ['c2@p:confirmed']],
    ]);
    // The unfiltered watcher beside it hears every change.
    expect(all.filter((n) => n.callId === 'd').map((n) => n.causeEventId)).toEqual([expect.any(String), 'iam', 'inv', 'ok', 'acm']);
  });
});
