// The front end's PUBLISH checks (RFC 3903 §6, what needs no state) and the
// mapping of the owning event manager's answer to SIP; Kafka is a stand-in
// PublishService here (the real request/reply: test/integration/publish.test.ts).
import { describe, expect, it } from 'vitest';
import type { PublishRequest, PublishResponse } from '../schemas/generated/records.ts';
import { entityTagOf } from '../presence-document/entityTag.ts';
import { answerOf, answerPublish, MAX_PUBLISH_BODY, PublishUnansweredError, validatePublish, type PublishContext } from './publishHandler.ts';
import { handlerContext, sipRequest } from '../test/support/frontEndRequests.ts';

const ctx: PublishContext = { ...handlerContext, retryAfter: 7 };

const PIDF_DOC = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="tel:+351910000042"><tuple id="t1"><status><basic>open</basic></status><note>Lunch</note></tuple></presence>`;

function publish(o: { ruri?: string; drop?: string[]; extra?: string[]; body?: string; contentType?: string } = {}) {
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-p1'],
    ['From', '<tel:+351910000042>;tag=ptag'],
    ['To', '<tel:+351910000042>'],
    ['Call-ID', 'pub-1@127.0.0.1'],
    ['CSeq', '1 PUBLISH'],
    ['Max-Forwards', '70'],
    ['Event', 'presence'],
    ['Expires', '600'],
  ];
  const body = o.body ?? '';
  if (body) headers.push(['Content-Type', o.contentType ?? 'application/pidf+xml']);
  return sipRequest('PUBLISH', o.ruri ?? 'tel:+351910000042', headers, { ...o, body });
}

async function status(req: ReturnType<typeof publish>) {
  const d = await validatePublish(req, ctx);
  return 'answer' in d ? d.answer : undefined;
}

// What Kamailio's pua_dialoginfo PUBLISHes for a call through the PBX (RFC 4235).
const DIALOG_DOC = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:+351910000042@pbx.example.com">
  <dialog id="c1" call-id="c1@pbx" direction="initiator"><state>confirmed</state></dialog>
</dialog-info>`;

describe('PUBLISH of dialog-info (Event: dialog, RFC 4235: a PBX feeding the calls it sees)', () => {
  const dialog = (o: { body?: string; contentType?: string; extra?: string[] } = {}) =>
    publish({
      drop: ['Event'],
      extra: ['Event: dialog', ...(o.extra ?? [])],
      body: o.body ?? DIALOG_DOC,
      contentType: o.contentType ?? 'application/dialog-info+xml',
    });

  it('becomes a PublishRequest of the dialog package with its dialog-info body', async () => {
    const d = await validatePublish(dialog(), ctx);
    expect('submit' in d && d.submit.value).toMatchObject({
      event: 'dialog',
      contentType: 'application/dialog-info+xml',
      body: Buffer.from(DIALOG_DOC),
      expires: 600,
    });
    const refresh = await validatePublish(publish({ drop: ['Event'], extra: ['Event: dialog', 'SIP-If-Match: abc'] }), ctx);
    expect('submit' in refresh && refresh.submit.value).toMatchObject({ event: 'dialog', ifMatch: 'abc', body: null });
  });

  it('refuses PIDF for the dialog package (415 + Accept dialog-info) and malformed dialog-info (400)', async () => {
    expect(await status(dialog({ body: PIDF_DOC, contentType: 'application/pidf+xml' }))).toMatchObject({
      status: 415,
      headers: [['Accept', 'application/dialog-info+xml']],
    });
    expect(await status(dialog({ body: DIALOG_DOC.replace('<state>confirmed</state>', '<state>ringing</state>') }))).toMatchObject({ status: 400 });
    expect(await status(dialog({ body: '<dialog-info version="1"' }))).toMatchObject({ status: 400 });
    // And a presence PUBLISH still takes PIDF only.
    expect(await status(publish({ body: DIALOG_DOC, contentType: 'application/dialog-info+xml' }))).toMatchObject({ status: 415 });
  });
});

describe('PUBLISH validation at the front end', () => {
  it('an initial PUBLISH becomes a PublishRequest keyed by the presentity, Expires capped at the maximum', async () => {
    const d = await validatePublish(publish({ body: PIDF_DOC, extra: [] }), ctx);
    expect('submit' in d && d.submit).toEqual({
      key: 'msisdn:+351910000042',
      value: {
        requestId: 'req-1',
        frontEnd: 'fe-1',
        receivedAt: 1_700_000_000_000,
        presentity: 'msisdn:+351910000042',
        presentityUri: 'tel:+351910000042',
        publisherUri: 'tel:+351910000042',
        event: 'presence',
        ifMatch: null,
        expires: 600,
        contentType: 'application/pidf+xml',
        body: Buffer.from(PIDF_DOC),
        answered: true,
      } satisfies PublishRequest,
    });
    const long = await validatePublish(publish({ body: PIDF_DOC, drop: ['Expires'], extra: ['Expires: 99999'] }), ctx);
    expect('submit' in long && long.submit.value.expires).toBe(7200);
    const none = await validatePublish(publish({ body: PIDF_DOC, drop: ['Expires'] }), ctx);
    expect('submit' in none && none.submit.value.expires).toBe(3600);
  });

  it('refresh (If-Match, no body) and remove (If-Match, Expires: 0) carry the tag and no body', async () => {
    const refresh = await validatePublish(publish({ extra: ['SIP-If-Match: abc123'] }), ctx);
    expect('submit' in refresh && refresh.submit.value).toMatchObject({ ifMatch: 'abc123', body: null, contentType: null, expires: 600 });
    const remove = await validatePublish(publish({ drop: ['Expires'], extra: ['SIP-If-Match: abc123', 'Expires: 0'] }), ctx);
    expect('submit' in remove && remove.submit.value).toMatchObject({ ifMatch: 'abc123', expires: 0 });
  });

  it('answers alone what needs no state: 489, 404, 423 with Min-Expires, 415 with Accept, 400 for bad PIDF or no body', async () => {
    expect(await status(publish({ body: PIDF_DOC, drop: ['Event'] }))).toMatchObject({ status: 489, headers: [['Allow-Events', 'presence, dialog']] });
    expect(await status(publish({ body: PIDF_DOC, drop: ['Event'], extra: ['Event: message-summary'] }))).toMatchObject({ status: 489 });
    expect(await status(publish({ body: PIDF_DOC, ruri: 'sip:example.com' }))).toMatchObject({ status: 404 });
    expect(await status(publish({ body: PIDF_DOC, drop: ['Expires'], extra: ['Expires: 30'] }))).toMatchObject({
      status: 423,
      headers: [['Min-Expires', '60']],
    });
    expect(await status(publish({ body: PIDF_DOC, drop: ['Expires'], extra: ['Expires: soon'] }))).toMatchObject({ status: 400, reason: 'Invalid Expires' });
    expect(await status(publish({ body: PIDF_DOC, contentType: 'text/plain' }))).toMatchObject({ status: 415, headers: [['Accept', 'application/pidf+xml']] });
    expect(await status(publish({ body: '<presence entity="tel:+1"><tuple' }))).toMatchObject({
      status: 400,
      reason: expect.stringMatching(/^Malformed PIDF/),
    });
    expect(await status(publish({ body: '<foo/>' }))).toMatchObject({ status: 400 });
    expect(await status(publish({}))).toMatchObject({ status: 400, reason: 'Initial PUBLISH without a body' });
    const huge = PIDF_DOC.replace('<note>Lunch</note>', `<note>${'x'.repeat(MAX_PUBLISH_BODY)}</note>`);
    expect(await status(publish({ body: huge }))).toMatchObject({ status: 413 });
  });
});

describe("the owning event manager's answer → SIP", () => {
  const r = (o: Partial<PublishResponse>): PublishResponse => ({
    requestId: 'req-1',
    frontEnd: 'fe-1',
    status: 200,
    etag: null,
    expires: null,
    reason: null,
    time: 0,
    ...o,
  });

  it('200 carries SIP-ETag and Expires; 412 and others carry the reason on one line', () => {
    expect(answerOf(r({ etag: 'e1', expires: 600 }), 't')).toEqual({
      status: 200,
      toTag: 't',
      headers: [
        ['SIP-ETag', 'e1'],
        ['Expires', '600'],
      ],
    });
    expect(answerOf(r({ status: 412, reason: 'Conditional Request Failed' }), 't')).toEqual({
      status: 412,
      toTag: 't',
      headers: [],
      reason: 'Conditional Request Failed',
    });
    expect(answerOf(r({ status: 400, reason: 'Malformed PIDF:\r\nline 2' }), 't').reason).toBe('Malformed PIDF: line 2');
    expect(answerOf(r({ status: 415 }), 't').headers).toEqual([['Accept', 'application/pidf+xml']]);
  });

  const noStore = () => Promise.reject(new Error('test: a conditional PUBLISH is never only stored'));
  const noSubmit = () => Promise.reject(new Error('test: an initial PUBLISH waits for no answer'));

  it('an initial PUBLISH is answered 200 once stored, with the tag the owner derives from its request id; nothing waits for the owner', async () => {
    const stored: PublishRequest[] = [];
    const ok = await answerPublish(publish({ body: PIDF_DOC }), ctx, { store: async (_key, req) => void stored.push(req), submit: noSubmit });
    expect(stored).toMatchObject([{ requestId: 'req-1', answered: true, ifMatch: null }]);
    expect(ok).toEqual({
      status: 200,
      toTag: 'txtag',
      headers: [
        ['SIP-ETag', entityTagOf('req-1')],
        ['Expires', '600'],
      ],
    });
    // Kafka not taking it: 500, and the retry (same request id) would name the same publication.
    const logged: string[] = [];
    const a = await answerPublish(
      publish({ body: PIDF_DOC }),
      { ...ctx, log: (l) => logged.push(l) },
      { store: () => Promise.reject(new Error('Kafka at x did not take the record')), submit: noSubmit },
    );
    expect(a).toEqual({ status: 500, toTag: 'txtag', headers: [['Retry-After', '7']] });
    expect(logged[0]).toContain('not stored');
  });

  it('a conditional PUBLISH is submitted and answered by the owner; refused checks submit nothing; no answer in time or Kafka refusing → 500 with Retry-After', async () => {
    const submitted: string[] = [];
    const refresh = () => publish({ extra: ['SIP-If-Match: abc123'] });
    const ok = await answerPublish(refresh(), ctx, {
      store: noStore,
      submit: async (key, req) => (submitted.push(key), r({ requestId: req.requestId, etag: 'e9', expires: req.expires })),
    });
    expect(ok).toMatchObject({
      status: 200,
      toTag: 'txtag',
      headers: [
        ['SIP-ETag', 'e9'],
        ['Expires', '600'],
      ],
    });
    const bad = await answerPublish(publish({}), ctx, { store: noStore, submit: async (key) => (submitted.push(key), r({})) });
    expect(bad.status).toBe(400);
    expect(submitted).toEqual(['msisdn:+351910000042']);
    for (const err of [new PublishUnansweredError('req-1', 4000), new Error('Kafka at x did not take the record')]) {
      const logged: string[] = [];
      const a = await answerPublish(refresh(), { ...ctx, log: (l) => logged.push(l) }, { store: noStore, submit: () => Promise.reject(err) });
      expect(a).toEqual({ status: 500, toTag: 'txtag', headers: [['Retry-After', '7']] });
      expect(logged[0]).toContain(err.message);
    }
  });

  it('a delegation store that does not answer is an outage: 500 with Retry-After, nothing submitted (never 403, never a crash)', async () => {
    const submitted: string[] = [];
    const logged: string[] = [];
    const down: PublishContext = {
      ...ctx,
      authenticated: 'sip:alice@example.com',
      mayPublishFor: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      log: (l) => logged.push(l),
    };
    const a = await answerPublish(publish({ body: PIDF_DOC }), down, {
      submit: async (key) => (submitted.push(key), r({})),
      store: async (key) => void submitted.push(key),
    });
    expect(a).toMatchObject({ status: 500, headers: [['Retry-After', '7']] });
    expect(submitted).toEqual([]);
    expect(logged[0]).toContain('ECONNREFUSED');
  });
});
