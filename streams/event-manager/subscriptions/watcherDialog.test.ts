import { describe, expect, it } from 'vitest';
import type { Subscription } from '../../../schemas/generated/records.ts';
import {
  applyDeliveryReport,
  applySubscribe,
  deliveryEndsSubscription,
  expireDialogs,
  forgetDialog,
  nextExpiry,
  notifyChange,
  terminateAll,
  type WatcherDialog,
} from './watcherDialog.ts';

const current = { contentType: 'application/pidf+xml', body: '<presence>open</presence>' };
const polite = { contentType: 'application/pidf+xml', body: '<presence>closed</presence>' };
const T0 = 1_700_000_000_000;

function sub(over: Partial<Subscription> = {}): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: 'r1',
    receivedAt: T0,
    presentity: 'msisdn:+351910000001',
    presentityUri: 'sip:+351910000001@ims.example.net',
    watcherUri: 'sip:watcher@example.com',
    event: 'presence',
    expires: 3600,
    callId: 'call-1',
    watcherTag: 'w1',
    cseq: 1,
    contact: 'sip:watcher@127.0.0.1:5070',
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-1',
    localTag: null,
    ...over,
  };
}

describe('watcher dialogs (RFC 6665 / RFC 3856 notifier)', () => {
  it('answers a new SUBSCRIBE with an immediate active NOTIFY carrying the document, version 1, CSeq 1', () => {
    const dialogs = new Map<string, WatcherDialog>();
    const { notifies } = applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 'tagA');
    expect(notifies).toHaveLength(1);
    expect(notifies[0]).toMatchObject({
      subscriptionState: 'active',
      expires: 3600,
      version: 1,
      cseq: 1,
      body: current.body,
      localTag: 'tagA',
      remoteTag: 'w1',
      requestUri: 'sip:watcher@127.0.0.1:5070',
    });
    expect(dialogs.size).toBe(1);
  });

  it('a pending dialog refreshed after the presentity decided goes on under the decision: active with the document, or rejected', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'confirm', current, polite, T0, 't');
    expect(applySubscribe(dialogs, sub({ cseq: 2 }), 'confirm', current, polite, T0 + 1000, 't').notifies[0]).toMatchObject({
      subscriptionState: 'pending',
      body: null,
    });
    expect(applySubscribe(dialogs, sub({ cseq: 3 }), 'allow', current, polite, T0 + 2000, 't').notifies[0]).toMatchObject({
      subscriptionState: 'active',
      body: current.body,
      version: 3,
    });
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 3000, null)).toHaveLength(1); // now told of changes
    const other = new Map<string, WatcherDialog>();
    applySubscribe(other, sub(), 'confirm', current, polite, T0, 't');
    expect(applySubscribe(other, sub({ cseq: 2 }), 'block', current, polite, T0 + 1000, 't').notifies[0]).toMatchObject({
      subscriptionState: 'terminated',
      reason: 'rejected',
    });
    expect(other.size).toBe(0);
  });

  it('sends pending without a body when the rules say confirm, and rejected when they say block', () => {
    const dialogs = new Map<string, WatcherDialog>();
    expect(applySubscribe(dialogs, sub(), 'confirm', current, polite, T0, 't').notifies[0]).toMatchObject({ subscriptionState: 'pending', body: null });
    expect(notifyChange(dialogs, 'p', current, polite, T0, null)).toEqual([]); // pending watchers get no changes
    const blocked = new Map<string, WatcherDialog>();
    expect(applySubscribe(blocked, sub({ callId: 'c2' }), 'block', current, polite, T0, 't').notifies[0]).toMatchObject({
      subscriptionState: 'terminated',
      reason: 'rejected',
      body: null,
    });
    expect(blocked.size).toBe(0);
  });

  it('shows a polite-blocked watcher the closed document', () => {
    const dialogs = new Map<string, WatcherDialog>();
    expect(applySubscribe(dialogs, sub(), 'polite-block', current, polite, T0, 't').notifies[0]!.body).toBe(polite.body);
  });

  it('keeps CSeq increasing and versions contiguous across refresh, changes and unsubscribe; ignores a replayed SUBSCRIBE', () => {
    const dialogs = new Map<string, WatcherDialog>();
    const all = [
      ...applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't').notifies,
      ...notifyChange(dialogs, 'p', current, polite, T0 + 1000, 'e1'),
      ...applySubscribe(dialogs, sub({ cseq: 2, expires: 600 }), 'allow', current, polite, T0 + 2000, 't').notifies,
      ...applySubscribe(dialogs, sub({ cseq: 2, expires: 600 }), 'allow', current, polite, T0 + 2500, 't').notifies, // retransmitted: ignored
      ...notifyChange(dialogs, 'p', current, polite, T0 + 3000, 'e2'),
      ...applySubscribe(dialogs, sub({ cseq: 3, expires: 0 }), 'allow', current, polite, T0 + 4000, 't').notifies,
    ];
    expect(all.map((n) => n.cseq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((n) => n.version)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((n) => n.subscriptionState)).toEqual(['active', 'active', 'active', 'active', 'terminated']);
    expect(all[2]!.expires).toBe(600);
    expect(all[4]!.reason).toBe('timeout');
    expect(dialogs.size).toBe(0);
  });

  it("a refresh moves the dialog to the watcher's new flow (NAT rebinding), but leaves proxies' routes as they were", () => {
    const flowA = '<sip:tokA.mac@10.0.0.1:5060;lr;flow=udp>';
    const flowB = '<sip:tokB.mac@10.0.0.1:5060;lr;flow=udp>';
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub({ routeSet: [flowA] }), 'allow', current, polite, T0, 't');
    const refreshed = applySubscribe(dialogs, sub({ cseq: 2, routeSet: [flowB] }), 'allow', current, polite, T0 + 1000, 't').notifies;
    expect(refreshed[0]!.routeSet).toEqual([flowB]);
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 2000, 'e')[0]!.routeSet).toEqual([flowB]);
    // A refresh through a proxy carries no flow route: the dialog's route set (RFC 3261 §12.2.2) stays.
    applySubscribe(dialogs, sub({ cseq: 3, routeSet: ['<sip:proxy.example;lr>'] }), 'allow', current, polite, T0 + 3000, 't');
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 4000, 'e')[0]!.routeSet).toEqual([flowB]);
  });

  it('expires subscriptions that were not refreshed, with reason=timeout', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub({ expires: 60 }), 'allow', current, polite, T0, 't');
    applySubscribe(dialogs, sub({ callId: 'c2', expires: 120 }), 'allow', current, polite, T0, 't');
    expect(nextExpiry(dialogs)).toBe(T0 + 60_000);
    expect(expireDialogs(dialogs, 'p', T0 + 59_999)).toEqual([]);
    const ended = expireDialogs(dialogs, 'p', T0 + 60_000);
    expect(ended.map((n) => [n.callId, n.subscriptionState, n.reason])).toEqual([['call-1', 'terminated', 'timeout']]);
    expect(dialogs.size).toBe(1);
  });

  it('terminates every dialog with reason=deactivated for a resubscribe handoff, and forgets a gone watcher silently', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't');
    applySubscribe(dialogs, sub({ callId: 'c2' }), 'allow', current, polite, T0, 't');
    expect(forgetDialog(dialogs, 'c2')).toBe(true);
    const ended = terminateAll(dialogs, 'p', 'deactivated', T0);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'deactivated', cseq: 2 });
    expect(dialogs.size).toBe(0);
  });
});

describe('delivery outcomes (RFC 6665 §4.2.2)', () => {
  it('a NOTIFY refused, gone or timed out ends the subscription; a delivered one does not', () => {
    expect(['delivered', 'gone', 'gave-up', 'rejected'].filter(deliveryEndsSubscription)).toEqual(['gone', 'gave-up', 'rejected']);
  });
});

describe('delivery reports against the dialog CSeq (issue 12.3)', () => {
  const report = (cseq: number, outcome: string, callId = 'call-1') => ({ notifyId: `${callId}/w1/${cseq}`, callId, outcome });

  it("ignores the failure of a NOTIFY older than the dialog's last one (a re-sent duplicate the watcher answered 500)", () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't');
    notifyChange(dialogs, 'p', current, polite, T0 + 1000, 'e1'); // CSeq 2
    const r = applyDeliveryReport(dialogs, 'p', report(1, 'gave-up'), T0 + 2000);
    expect(r).toEqual({ changed: false, notifies: [] });
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 3000, 'e2').map((n) => n.cseq)).toEqual([3]);
  });

  it('a failed latest NOTIFY ends the dialog with terminated;reason=deactivated at the next CSeq; a refresh continues the CSeq, never restarting it', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't');
    notifyChange(dialogs, 'p', current, polite, T0 + 1000, 'e1'); // CSeq 2
    const r = applyDeliveryReport(dialogs, 'p', report(2, 'gave-up'), T0 + 2000);
    expect(r.changed).toBe(true);
    expect(r.notifies.map((n) => [n.cseq, n.subscriptionState, n.reason])).toEqual([[3, 'terminated', 'deactivated']]);
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 3000, 'e2')).toEqual([]); // no longer notified
    expect(applyDeliveryReport(dialogs, 'p', report(3, 'gave-up'), T0 + 3500)).toEqual({ changed: false, notifies: [] }); // the terminating one fails too: nothing more
    // The watcher comes back and refreshes the old dialog: the notifier goes on from CSeq 3.
    const refresh = applySubscribe(dialogs, sub({ cseq: 2, expires: 600 }), 'allow', current, polite, T0 + 4000, 't').notifies;
    expect(refresh.map((n) => [n.cseq, n.subscriptionState])).toEqual([[4, 'active']]);
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 5000, 'e3').map((n) => n.cseq)).toEqual([5]);
  });

  it('a latest NOTIFY given up on with no answer at all ends the dialog silently: no terminated NOTIFY at a Contact that answers nothing', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't');
    notifyChange(dialogs, 'p', current, polite, T0 + 1000, 'e1'); // CSeq 2
    expect(applyDeliveryReport(dialogs, 'p', { ...report(2, 'gave-up'), statusCode: null }, T0 + 2000)).toEqual({ changed: true, notifies: [] });
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 3000, 'e2')).toEqual([]);
    // One that answered (503 on its last attempt) is told the dialog ended.
    const other = new Map<string, WatcherDialog>();
    applySubscribe(other, sub(), 'allow', current, polite, T0, 't');
    notifyChange(other, 'p', current, polite, T0 + 1000, 'e1');
    const r = applyDeliveryReport(other, 'p', { ...report(2, 'gave-up'), statusCode: 503 }, T0 + 2000);
    expect(r.notifies.map((n) => [n.subscriptionState, n.reason])).toEqual([['terminated', 'deactivated']]);
  });

  it('a dialog whose Contact nobody vouched for carries that to its NOTIFYs and, unanswered, ends silently (no terminated NOTIFY at it)', () => {
    const dialogs = new Map<string, WatcherDialog>();
    const first = applySubscribe(dialogs, sub({ contactVerified: false }), 'allow', current, polite, T0, 't').notifies;
    expect(first.map((n) => n.contactVerified)).toEqual([false]);
    expect(notifyChange(dialogs, 'p', current, polite, T0 + 1000, 'e1').map((n) => [n.cseq, n.contactVerified])).toEqual([[2, false]]);
    expect(applyDeliveryReport(dialogs, 'p', report(2, 'gave-up'), T0 + 2000)).toEqual({ changed: true, notifies: [] });
    // The watcher refreshes from its own address (vouched now): the dialog lives again, CSeq going on.
    const refresh = applySubscribe(dialogs, sub({ cseq: 2, contactVerified: true }), 'allow', current, polite, T0 + 3000, 't').notifies;
    expect(refresh.map((n) => [n.cseq, n.subscriptionState, n.contactVerified])).toEqual([[3, 'active', true]]);
  });

  it('gone (481/404) ends the dialog without a NOTIFY; a delivered or superseded report changes nothing; the ended dialog is dropped at its expiry', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub({ expires: 60 }), 'allow', current, polite, T0, 't');
    expect(applyDeliveryReport(dialogs, 'p', report(1, 'delivered'), T0).changed).toBe(false);
    expect(applyDeliveryReport(dialogs, 'p', report(1, 'superseded'), T0).changed).toBe(false);
    expect(applyDeliveryReport(dialogs, 'p', report(1, 'gone'), T0)).toMatchObject({ changed: true, notifies: [] });
    expect(terminateAll(dialogs, 'p', 'deactivated', T0)).toEqual([]); // nothing to tell an ended dialog
    applySubscribe(dialogs, sub({ callId: 'c2', expires: 60 }), 'allow', current, polite, T0, 't');
    expect(expireDialogs(dialogs, 'p', T0 + 60_000).map((n) => n.callId)).toEqual(['c2']);
    expect(dialogs.size).toBe(0);
  });

  it('a report whose notifyId is not one of ours falls back to the Call-ID', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 't');
    expect(applyDeliveryReport(dialogs, 'p', { notifyId: 'x', callId: 'call-1', outcome: 'gone' }, T0).changed).toBe(true);
    expect(notifyChange(dialogs, 'p', current, polite, T0, null)).toEqual([]);
  });
});

describe('dialog event package subscriptions (RFC 4235) beside presence ones', () => {
  const dialogInfo = (d: { version: number }) => ({ contentType: 'application/dialog-info+xml', body: `<dialog-info version="${d.version}"/>` });
  const noCalls = (d: { version: number }) => ({ contentType: 'application/dialog-info+xml', body: `<dialog-info version="${d.version}" empty/>` });

  it('a SUBSCRIBE with Event: dialog holds a dialog of that package; its NOTIFYs say Event: dialog and carry the document of their own version', () => {
    const dialogs = new Map<string, WatcherDialog>();
    const { notifies } = applySubscribe(dialogs, sub({ event: 'dialog', accept: ['application/dialog-info+xml'] }), 'allow', dialogInfo, noCalls, T0, 'tagD');
    expect(notifies[0]).toMatchObject({ event: 'dialog', version: 1, cseq: 1, contentType: 'application/dialog-info+xml', body: '<dialog-info version="1"/>' });
    expect([...dialogs.values()][0]).toMatchObject({ event: 'dialog' });
    const [next] = notifyChange(dialogs, 'msisdn:+351910000001', dialogInfo, noCalls, T0 + 1, 'e1', 'dialog');
    expect(next).toMatchObject({ event: 'dialog', version: 2, cseq: 2, body: '<dialog-info version="2"/>' });
    // Ended on its expiry, still as a dialog-package NOTIFY.
    expect(expireDialogs(dialogs, 'msisdn:+351910000001', T0 + 3_600_001)[0]).toMatchObject({ event: 'dialog', subscriptionState: 'terminated' });
  });

  it('a change is told only to the package it concerns: PIDF to presence watchers, dialog-info to dialog watchers', () => {
    const dialogs = new Map<string, WatcherDialog>();
    applySubscribe(dialogs, sub(), 'allow', current, polite, T0, 'tagP');
    applySubscribe(dialogs, sub({ event: 'dialog', callId: 'call-2' }), 'allow', dialogInfo, noCalls, T0, 'tagD');
    const presence = notifyChange(dialogs, 'msisdn:+351910000001', current, polite, T0 + 1, 'e1');
    expect(presence.map((n) => [n.callId, n.event])).toEqual([['call-1', 'presence']]);
    const calls = notifyChange(dialogs, 'msisdn:+351910000001', dialogInfo, noCalls, T0 + 2, 'e2', 'dialog');
    expect(calls.map((n) => [n.callId, n.event, n.version])).toEqual([['call-2', 'dialog', 2]]);
  });

  it('a polite-blocked dialog watcher gets the document with no calls', () => {
    const dialogs = new Map<string, WatcherDialog>();
    const { notifies } = applySubscribe(dialogs, sub({ event: 'dialog' }), 'polite-block', dialogInfo, noCalls, T0, 'tagD');
    expect(notifies[0]!.body).toBe('<dialog-info version="1" empty/>');
  });
});
