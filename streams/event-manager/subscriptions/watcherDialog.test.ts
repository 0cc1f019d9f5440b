import { describe, expect, it } from 'vitest';
import type { Subscription } from '../../../schemas/generated/records.ts';
import {
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
