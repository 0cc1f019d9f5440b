// Event: message-summary (RFC 3842) and Event: message (seed 003) through the
// event manager's handlers: the first NOTIFY on SUBSCRIBE (the summary held /
// no body), a NOTIFY per summary change and per new message, contiguous CSeqs,
// repeats told once, messages held while nobody watched (bounded) told to the
// next watcher, expiry and unsubscribe terminated — state through its
// changelog record between records, as a restore would.
import { describe, expect, it } from 'vitest';
import { parseMessageSummary } from '../../../presence-document/messageSummary.ts';
import { parseMessageNotice } from '../../../presence-document/messageNotice.ts';
import type { MessagingFacts, NotifyRequest, SignalingEvent } from '../../../schemas/generated/records.ts';
import { handlerContext, runHandlers, written } from '../../../test/support/handlerRun.ts';
import { sipRequest } from '../../../test/support/signalingEvents.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { MAX_PENDING_MESSAGES } from '../subscriptions/messageWaiting.ts';
import { expireDialogs } from '../subscriptions/watcherDialog.ts';

const KEY = 'msisdn:+351910000001';
const URI = 'sip:+351910000001@ims.example.net';
const T = Date.UTC(2026, 0, 1, 8);

const sub = (callId: string, event: string, over: Parameters<typeof subscriptionRecord>[2] = {}) =>
  subscriptionRecord(KEY, callId, { receivedAt: T, presentityUri: URI, watcherUri: URI, event, accept: [], ...over });

const summary = (newCount: number, oldCount: number, urgentNew = 0): MessagingFacts => ({
  summary: { waiting: newCount > 0, account: 'sip:vm@example.net', classes: [{ context: 'voice-message', newCount, oldCount, urgentNew, urgentOld: 0 }] },
  notice: null,
});
const notice = (id: string, contentType = 'audio/wav'): MessagingFacts => ({
  summary: null,
  notice: {
    messageId: id,
    contentType,
    origin: 'tel:+441632960001',
    contact: `https://vm.example.net/m/${id}`,
    context: 'voice-message',
    receivedAt: T + 1,
    subject: null,
  },
});
let n = 0;
const fact = (messaging: MessagingFacts, at = T + 1000, eventId = `msg:${++n}`): SignalingEvent => ({
  ...sipRequest(KEY, 'NOTIFY', at, { callId: `vm-${n}` }),
  protocol: 'messaging',
  eventId,
  messaging,
});

async function run(records: (SignalingEvent | ReturnType<typeof sub>)[]) {
  const ctx = handlerContext([...records], () => 'allow');
  const r = await runHandlers(ctx, KEY, records);
  return { ...r, ctx, notifies: written<NotifyRequest>(r.out, 'notify-requests') };
}

describe('message-summary and message watchers in the event manager', () => {
  it('message-summary: "nothing waiting" first, then a NOTIFY per change (none for the same counts), contiguous CSeqs', async () => {
    const { notifies } = await run([sub('s1', 'message-summary'), fact(summary(1, 0)), fact(summary(1, 0)), fact(summary(2, 0, 1))]);
    expect(notifies.map((x) => [x.event, x.cseq, x.subscriptionState, x.contentType])).toEqual([
      ['message-summary', 1, 'active', 'application/simple-message-summary'],
      ['message-summary', 2, 'active', 'application/simple-message-summary'],
      ['message-summary', 3, 'active', 'application/simple-message-summary'],
    ]);
    expect(parseMessageSummary(notifies[0]!.body!)).toEqual({ waiting: false, account: null, classes: [] });
    expect(parseMessageSummary(notifies[2]!.body!).classes[0]).toMatchObject({ newCount: 2, urgentNew: 1 });
    expect(notifies.map((x) => x.version)).toEqual([1, 2, 3]);
  });

  it('a summary that came before the SUBSCRIBE is its first NOTIFY; presence watchers are not told of it', async () => {
    const { notifies } = await run([fact(summary(3, 1)), sub('p1', 'presence', { watcherUri: 'sip:bob@example.com' }), sub('s1', 'message-summary')]);
    expect(notifies.filter((x) => x.event === 'presence')).toHaveLength(1); // its own first NOTIFY only
    const first = notifies.find((x) => x.event === 'message-summary')!;
    expect(parseMessageSummary(first.body!)).toMatchObject({ waiting: true, classes: [{ context: 'voice-message', newCount: 3, oldCount: 1 }] });
  });

  it('message: no body first; one NOTIFY per new message with its kind as Content-Type; a repeated id or event told once', async () => {
    const again = fact(notice('vm-1'));
    const { notifies, ctx } = await run([sub('m1', 'message'), fact(notice('vm-1')), again, { ...again }, fact(notice('sms-1', 'text/plain'))]);
    expect(notifies.map((x) => [x.cseq, x.contentType])).toEqual([
      [1, null],
      [2, 'audio/wav'],
      [3, 'text/plain'],
    ]);
    expect(notifies[0]!.body).toBeNull();
    expect(parseMessageNotice(notifies[1]!.body!, 'audio/wav')).toMatchObject({
      messageId: 'vm-1',
      origin: 'tel:+441632960001',
      contact: 'https://vm.example.net/m/vm-1',
    });
    // The repeated message (a new event) known by its message id; the repeated event by the partition's duplicate window.
    expect(ctx.stats.messaging.repeats).toBe(1);
    expect(ctx.stats.duplicates).toBe(1);
  });

  it('messages held while nobody watched (at most the bound, oldest dropped) go to the next message watcher after its first NOTIFY', async () => {
    const many = Array.from({ length: MAX_PENDING_MESSAGES + 2 }, (_, i) => fact(notice(`m-${i}`)));
    const { notifies, m, ctx } = await run([...many, sub('m1', 'message')]);
    expect(ctx.stats.messaging.dropped).toBe(2);
    expect(notifies[0]).toMatchObject({ cseq: 1, body: null });
    const told = notifies.slice(1).map((x) => parseMessageNotice(x.body!, x.contentType!).messageId);
    expect(told).toEqual(Array.from({ length: MAX_PENDING_MESSAGES }, (_, i) => `m-${i + 2}`));
    expect(notifies.map((x) => x.cseq)).toEqual(notifies.map((_, i) => i + 1));
    expect(m.messages?.pending).toEqual([]);
  });

  it('a refresh gets the current summary at the next CSeq; its expiry ends it terminated;reason=timeout', async () => {
    const { notifies, m } = await run([
      sub('s1', 'message-summary', { expires: 60 }),
      fact(summary(1, 0)),
      sub('s1', 'message-summary', { cseq: 2, expires: 60, receivedAt: T + 30_000 }),
    ]);
    expect(notifies.map((x) => [x.cseq, x.subscriptionState, x.expires])).toEqual([
      [1, 'active', 60],
      [2, 'active', 59], // told a second after the SUBSCRIBE: the dialogs' clock
      [3, 'active', 60],
    ]);
    expect(parseMessageSummary(notifies[2]!.body!).classes[0]).toMatchObject({ newCount: 1 });
    const ended = expireDialogs(m.watchers, KEY, T + 91_000);
    expect(ended.map((x) => [x.cseq, x.subscriptionState, x.reason])).toEqual([[4, 'terminated', 'timeout']]);
  });

  it('unsubscribe (Expires: 0) ends the dialog with a terminated NOTIFY; later messages are held, not sent', async () => {
    const { notifies, m } = await run([
      sub('m1', 'message'),
      sub('m1', 'message', { cseq: 2, expires: 0 }),
      fact(notice('late')),
      sub('s1', 'message-summary'),
      sub('s1', 'message-summary', { cseq: 2, expires: 0 }),
    ]);
    expect(notifies.map((x) => [x.callId, x.cseq, x.subscriptionState])).toEqual([
      ['m1', 1, 'active'],
      ['m1', 2, 'terminated'],
      ['s1', 1, 'active'],
      ['s1', 2, 'terminated'],
    ]);
    expect(m.messages?.pending.map((p) => p.messageId)).toEqual(['late']);
    expect(m.watchers.size).toBe(0);
  });
});
