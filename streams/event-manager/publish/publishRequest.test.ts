// The owning event manager's PUBLISH logic: initial → 200 with a tag derived
// from the requestId; refresh/modify/remove by SIP-If-Match; unknown tag →
// 412; the publication shows in the rendered PIDF next to the network's
// state and is gone after removal or expiry.
import { describe, expect, it } from 'vitest';
import type { PublishRequest } from '../../../schemas/generated/records.ts';
import { apply } from '../presence/derive.ts';
import { emptyPresence, type SubscriberPresence } from '../presence/model.ts';
import { renderPresence } from '../presence/presenceDocument.ts';
import { mapEvent, pidfBody } from '../../../test/support/signalingEvents.ts';
import { advance } from '../presence/timers.ts';
import { applyPublishRequest, entityTagOf, MAX_PUBLICATIONS } from './publishRequest.ts';
import { callDialogs } from '../presence/dialogDocument.ts';

const SUB = 'msisdn:+351910000042';
const T = Date.UTC(2026, 10, 25, 12);

const req = (id: string, o: Partial<PublishRequest> = {}): PublishRequest => ({
  requestId: id,
  frontEnd: 'fe-1',
  receivedAt: T,
  presentity: SUB,
  presentityUri: 'tel:+351910000042',
  publisherUri: 'tel:+351910000042',
  event: 'presence',
  ifMatch: null,
  expires: 600,
  contentType: 'application/pidf+xml',
  body: Buffer.from(pidfBody('In a meeting', 'meeting')),
  answered: false,
  ...o,
});

function attached(): SubscriberPresence {
  let s = emptyPresence(SUB);
  s = apply(s, mapEvent(SUB, 'updateLocation', 'invoke', T - 5000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 })).state;
  return apply(s, mapEvent(SUB, 'updateLocation', 'result', T - 4900, { opc: 200, dpc: 100 })).state;
}

describe('PUBLISH through the front end, at the owning event manager', () => {
  it('initial: 200 with the requestId-derived tag and expiry; the document is composed with the network state', () => {
    const before = attached();
    const r = applyPublishRequest(before, req('r1'));
    expect(r.response).toMatchObject({ requestId: 'r1', frontEnd: 'fe-1', status: 200, etag: entityTagOf('r1'), expires: 600, reason: null });
    expect(r.changed).toBe(true);
    expect(r.state.version).toBe(before.version + 1);
    expect(r.state.publications).toMatchObject([{ etag: entityTagOf('r1'), publishedAt: T, expiresAt: T + 600_000 }]);
    const pidf = renderPresence(r.state);
    expect(pidf).toContain('In a meeting');
    expect(pidf).toMatch(/<tuple id="network">[\s\S]*<basic>open<\/basic>/);
    expect(pidf).toContain('meeting');
  });

  it('the entity tag depends only on the requestId (a re-processed batch gives the same tag), and differs between requests', () => {
    expect(entityTagOf('r1')).toBe(entityTagOf('r1'));
    expect(entityTagOf('r1')).not.toBe(entityTagOf('r2'));
    const once = applyPublishRequest(attached(), req('r1'));
    const again = applyPublishRequest(once.state, req('r1'));
    expect(again).toMatchObject({ changed: false, response: { status: 200, etag: entityTagOf('r1') } });
    expect(again.state).toBe(once.state);
  });

  it('refresh (If-Match, no body): same document under a new tag and expiry; the old tag is then stale → 412', () => {
    const first = applyPublishRequest(attached(), req('r1')).state;
    const r = applyPublishRequest(first, req('r2', { ifMatch: entityTagOf('r1'), body: null, contentType: null, expires: 900, receivedAt: T + 60_000 }));
    expect(r.response).toMatchObject({ status: 200, etag: entityTagOf('r2'), expires: 900 });
    expect(r.state.publications).toMatchObject([{ etag: entityTagOf('r2'), publishedAt: T, expiresAt: T + 60_000 + 900_000 }]);
    expect(renderPresence(r.state)).toBe(renderPresence(first)); // a refresh changes no watcher's document
    const stale = applyPublishRequest(r.state, req('r3', { ifMatch: entityTagOf('r1'), body: null, contentType: null }));
    expect(stale).toMatchObject({ changed: false, response: { status: 412, etag: null, reason: 'Conditional Request Failed' } });
    expect(stale.state).toBe(r.state);
  });

  it('modify (If-Match and body) replaces the document; remove (If-Match, Expires 0) leaves the network state only', () => {
    const first = applyPublishRequest(attached(), req('r1')).state;
    const mod = applyPublishRequest(first, req('r2', { ifMatch: entityTagOf('r1'), body: Buffer.from(pidfBody('Driving', 'vehicle')), receivedAt: T + 1000 }));
    expect(mod.response.status).toBe(200);
    expect(renderPresence(mod.state)).toContain('Driving');
    expect(renderPresence(mod.state)).not.toContain('In a meeting');
    const gone = applyPublishRequest(mod.state, req('r3', { ifMatch: entityTagOf('r2'), body: null, contentType: null, expires: 0, receivedAt: T + 2000 }));
    expect(gone.response).toMatchObject({ status: 200, expires: 0 });
    expect(gone.changed).toBe(true);
    expect(gone.state.publications).toEqual([]);
    expect(renderPresence(gone.state)).not.toContain('Driving');
    expect(renderPresence(gone.state)).toContain('<tuple id="network">');
  });

  it('a publication expires with the presence timers', () => {
    const s = applyPublishRequest(attached(), req('r1', { expires: 60 })).state;
    expect(advance(s, T + 59_000).state.publications).toHaveLength(1);
    expect(advance(s, T + 60_000).state.publications).toEqual([]);
  });

  it('refuses what cannot be published: unknown If-Match 412, initial without body 400, not PIDF 415, malformed PIDF 400', () => {
    const s = attached();
    const cases: Array<[Partial<PublishRequest>, number]> = [
      [{ ifMatch: 'nosuchtag' }, 412],
      [{ body: null, contentType: null }, 400],
      [{ contentType: 'text/plain' }, 415],
      [{ body: Buffer.from('<presence') }, 400],
      [{ expires: -1 }, 400],
    ];
    for (const [o, status] of cases) {
      const r = applyPublishRequest(s, req('bad', o));
      expect([o, r.response.status, r.changed]).toEqual([o, status, false]);
      expect(r.state).toBe(s);
    }
  });

  it(`at most ${MAX_PUBLICATIONS} publications per presentity: one more initial PUBLISH replaces the least recently published, a refresh still works`, () => {
    let s = attached();
    for (let i = 0; i < MAX_PUBLICATIONS; i++) s = applyPublishRequest(s, req(`p${i}`, { receivedAt: T + i })).state;
    expect(s.publications).toHaveLength(MAX_PUBLICATIONS);
    const more = applyPublishRequest(s, req('one-more', { receivedAt: T + 100 }));
    expect(more).toMatchObject({ changed: true, response: { status: 200, etag: entityTagOf('one-more') } });
    expect(more.state.publications).toHaveLength(MAX_PUBLICATIONS);
    const tags = more.state.publications.map((p) => p.etag);
    expect(tags).toContain(entityTagOf('one-more'));
    expect(tags).not.toContain(entityTagOf('p0'));
    expect(tags).toContain(entityTagOf('p1'));
    expect(applyPublishRequest(s, req('refresh', { ifMatch: entityTagOf('p0'), body: null, contentType: null })).response.status).toBe(200);
  });

  it(`dialog publications: one more than ${MAX_PUBLICATIONS} replaces the least recently published too`, () => {
    const dialogs = Buffer.from('<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:42@pbx"/>');
    let s = attached();
    const d = (id: string, at: number) => req(id, { event: 'dialog', contentType: 'application/dialog-info+xml', body: dialogs, receivedAt: at });
    for (let i = 0; i <= MAX_PUBLICATIONS; i++) s = applyPublishRequest(s, d(`d${i}`, T + i)).state;
    expect(s.dialogPublications).toHaveLength(MAX_PUBLICATIONS);
    expect(s.dialogPublications.map((p) => p.etag)).not.toContain(entityTagOf('d0'));
  });

  it('two publishers (two devices) are kept side by side', () => {
    const a = applyPublishRequest(attached(), req('a')).state;
    const b = applyPublishRequest(a, req('b', { body: Buffer.from(pidfBody('Desk phone')), receivedAt: T + 10 })).state;
    expect(b.publications.map((p) => p.etag).sort()).toEqual([entityTagOf('a'), entityTagOf('b')].sort());
  });
});

describe('PUBLISH of dialog-info (a PBX feeding its calls, RFC 4235)', () => {
  const DIALOGS = (state: string) => `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:+351910000042@pbx.example.com">
  <dialog id="c1" call-id="c1@pbx" direction="recipient"><state>${state}</state><remote><identity>sip:200@pbx.example.com</identity></remote></dialog>
</dialog-info>`;
  const dialogReq = (id: string, o: Partial<PublishRequest> = {}) =>
    req(id, { event: 'dialog', contentType: 'application/dialog-info+xml', body: Buffer.from(DIALOGS('early')), ...o });
  const view = (s: SubscriberPresence) => callDialogs(s, { entity: 'tel:+351910000042', showIdentities: true }).map((d) => [d.id, d.state]);

  it('is kept apart from presence publications: the PIDF does not change, the published call shows in the dialogs', () => {
    const before = attached();
    const r = applyPublishRequest(before, dialogReq('d1'));
    expect(r.response).toMatchObject({ status: 200, etag: entityTagOf('d1'), expires: 600 });
    expect(r.changed).toBe(true);
    expect(r.state.publications).toEqual([]);
    expect(r.state.dialogPublications).toMatchObject([{ etag: entityTagOf('d1'), publishedAt: T, expiresAt: T + 600_000 }]);
    expect(renderPresence(r.state)).toBe(renderPresence(before));
    expect(view(r.state)).toEqual([['pub-c1', 'early']]);
  });

  it('modify and remove by SIP-If-Match among the dialog publications; a presence tag is no dialog tag (412)', () => {
    let s = applyPublishRequest(attached(), dialogReq('d1')).state;
    s = applyPublishRequest(s, req('p1')).state;
    const modified = applyPublishRequest(s, dialogReq('d2', { ifMatch: entityTagOf('d1'), body: Buffer.from(DIALOGS('confirmed')) }));
    expect(modified.response.status).toBe(200);
    expect(view(modified.state)).toEqual([['pub-c1', 'confirmed']]);
    expect(applyPublishRequest(modified.state, dialogReq('d3', { ifMatch: entityTagOf('p1'), body: null })).response.status).toBe(412);
    const removed = applyPublishRequest(modified.state, dialogReq('d4', { ifMatch: entityTagOf('d2'), body: null, expires: 0 }));
    expect(removed.response.status).toBe(200);
    expect(removed.state.dialogPublications).toEqual([]);
    expect(view(removed.state)).toEqual([]);
    expect(removed.state.publications).toHaveLength(1);
  });

  it('expires with the presence timers', () => {
    const s = applyPublishRequest(attached(), dialogReq('d1', { expires: 60 })).state;
    expect(advance(s, T + 59_000).state.dialogPublications).toHaveLength(1);
    expect(advance(s, T + 60_000).state.dialogPublications).toEqual([]);
  });

  it('refuses a body that is not dialog-info (415) or not well-formed (400)', () => {
    expect(applyPublishRequest(attached(), dialogReq('d1', { contentType: 'application/pidf+xml', body: Buffer.from(pidfBody('x')) })).response.status).toBe(
      415,
    );
    expect(applyPublishRequest(attached(), dialogReq('d1', { body: Buffer.from('<dialog-info') })).response.status).toBe(400);
  });
});
