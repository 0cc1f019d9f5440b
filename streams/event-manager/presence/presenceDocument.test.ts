// PIDF rendering: parsed back with the project's parser to the same document,
// well-formed for xmllint, escaped, deterministic, and merged by the rule
// documented in presenceDocument.ts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePidf } from '../../../presence-document/parse.ts';
import type { PresenceDocument } from '../../../presence-document/model.ts';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { renderPidf, xmlEscape } from '../../../presence-document/render.ts';
import { renderPresence } from './presenceDocument.ts';
import { presenceDocument } from './presenceDocument.ts';
import { summary } from './summary.ts';
import { profilesFromSettings } from '../../../subscriber/availability/settingsProfile.ts';
import { isupEvent, mapEvent, pidfBody, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'msisdn:+15550001';
const T = Date.UTC(2026, 0, 1);

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const haveXmllint = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v xmllint'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!haveXmllint) console.warn('xmllint checks skipped: xmllint is not installed (apt-get install libxml2-utils)');

const attach = [
  mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', mscNumber: '441122', opc: 1 }),
  mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 }),
  mapEvent(SUB, 'anyTimeInterrogation', 'result', T + 2, {
    subscriberState: 'assumedIdle',
    vlrNumber: '441122',
    cellGlobalId: '001-01-7005-31319',
    ageOfLocation: 1,
  }),
];
const inCall = [isupEvent(SUB, 'IAM', T + 10, { role: 'calling' }), isupEvent(SUB, 'ANM', T + 20, { role: 'calling' })];
const published = (body: string, t = T + 30) => [
  sipRequest(SUB, 'PUBLISH', t, { callId: `p${t}`, event: 'presence', expires: 600, contentType: 'application/pidf+xml', body: Buffer.from(body) }),
  sipResponse(SUB, 'PUBLISH', 200, t + 1, { callId: `p${t}`, etag: `e${t}`, expires: 600 }),
];
const registered = [sipResponse(SUB, 'REGISTER', 200, T + 5, { callId: 'r', contacts: ['sip:+15550001@10.0.0.1:5060;transport=tcp;expires=600'] })];

/** What the parser reads back: optional fields absent rather than undefined. */
function normalized(d: PresenceDocument): unknown {
  return JSON.parse(JSON.stringify(d));
}

function xmllint(xml: string): void {
  execFileSync('xmllint', ['--noout', '-'], { input: xml, stdio: ['pipe', 'ignore', 'pipe'] });
}

describe('PIDF rendering', () => {
  it('attached, in a call, located: network tuple open with the VLR, on-the-phone, cell note on the handset', () => {
    const s = fold([...attach, ...inCall]);
    const doc = parsePidf(renderPresence(s));
    expect(doc.entity).toBe('tel:+15550001');
    expect(doc.services).toHaveLength(1);
    expect(doc.services[0]).toMatchObject({
      id: 'network',
      basic: 'open',
      contact: { uri: 'tel:+15550001' },
      notes: [{ text: 'attached (MSC/VLR 441122)' }],
      timestamp: new Date(T + 1).toISOString(),
    });
    expect(doc.persons[0]).toMatchObject({ activities: ['on-the-phone'], timestamp: new Date(T + 20).toISOString() });
    expect(doc.devices[0]).toMatchObject({ id: 'handset', notes: [{ text: 'cell 001-01-7005-31319' }], timestamp: new Date(T + 2 - 60_000).toISOString() });
    expect(doc.devices[0]!.deviceId).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(doc.services[0]!.deviceIds).toEqual([doc.devices[0]!.deviceId]);
  });

  it('parses back to the document it was rendered from (all element kinds)', () => {
    const s = fold([...attach, ...inCall, ...registered, ...published(pidfBody('In a meeting & busy', 'meeting'))]);
    const doc = presenceDocument(s);
    expect(normalized(parsePidf(renderPidf(doc)))).toEqual(normalized(doc));
  });

  it.skipIf(!haveXmllint)('is well-formed XML for xmllint, including hostile published text', () => {
    const hostile = pidfBody('&lt;/note&gt;&lt;script&gt; "quoted" &amp; \'apos\'', 'away');
    const s = fold([...attach, ...inCall, ...registered, ...published(hostile)]);
    const xml = renderPresence(s);
    expect(() => xmllint(xml)).not.toThrow();
    expect(parsePidf(xml).persons[0]!.notes[0]!.text).toBe('</note><script> "quoted" & \'apos\'');
  });

  it('escapes markup characters and drops characters XML cannot carry', () => {
    expect(xmlEscape(`<a href="x">&'\u0001`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('detached / purged: network tuple closed with the reason', () => {
    const s = fold([...attach, mapEvent(SUB, 'purgeMS', 'invoke', T + 100, { vlrNumber: '441122' })]);
    const doc = parsePidf(renderPresence(s));
    expect(doc.services[0]).toMatchObject({ basic: 'closed', notes: [{ text: 'purged (purgeMS)' }] });
  });

  it('registered SIP contacts are open services of their own, even when the network is detached', () => {
    const s = fold([mapEvent(SUB, 'purgeMS', 'invoke', T, { vlrNumber: '1' }), ...registered]);
    const doc = parsePidf(renderPresence(s));
    expect(doc.services.map((t) => [t.basic, t.contact?.uri])).toEqual([
      ['closed', 'tel:+15550001'],
      ['open', 'sip:+15550001@10.0.0.1:5060;transport=tcp'],
    ]);
    expect(summary(s).basic).toBe('open');
  });

  it('a SIP-only subscriber (AoR key, no network fact) has no network service', () => {
    const aor = 'aor:sip:alice@example.com';
    const s = fold([sipResponse(aor, 'REGISTER', 200, T, { callId: 'r', contacts: ['sip:alice@10.0.0.9;expires=60'] })]);
    const doc = parsePidf(renderPresence(s));
    expect(doc.entity).toBe('sip:alice@example.com');
    expect(doc.services.map((t) => [t.basic, t.contact?.uri])).toEqual([['open', 'sip:alice@10.0.0.9']]);
    expect(summary(s)).toMatchObject({ basic: 'open', networkState: 'unknown', note: null });
  });

  it('merge: published activities and note win over network ones; network wins for reachability', () => {
    const s = fold([...attach, ...inCall, ...published(pidfBody('Gone fishing', 'away'))]);
    const doc = parsePidf(renderPresence(s));
    expect(doc.persons[0]!.activities).toEqual(['away']);
    expect(doc.persons[0]!.notes.map((n) => n.text)).toEqual(['Gone fishing']);
    expect(doc.services.find((t) => t.id === 'telephone2')?.basic).toBe('open');

    const purged = fold([mapEvent(SUB, 'purgeMS', 'invoke', T + 100, { vlrNumber: '441122' })], s);
    expect(parsePidf(renderPresence(purged)).services.find((t) => t.id === 'telephone2')?.basic).toBe('closed');
  });

  it('the newest publication wins when several have persons', () => {
    const s = fold([...published(pidfBody('old', 'away'), T + 30), ...published(pidfBody('new', 'meeting'), T + 40)]);
    expect(parsePidf(renderPresence(s)).persons[0]!.activities).toEqual(['meeting']);
  });

  it('a published tuple id that collides with ours is made unique', () => {
    const body = pidfBody('x').replace('id="telephone2"', 'id="network"');
    const s = fold([...attach, ...published(body)]);
    expect(parsePidf(renderPresence(s)).services.map((t) => t.id)).toEqual(['network', 'network-2']);
  });

  it('deterministic: the same facts give the same bytes; bookkeeping-only events do not change the document', () => {
    const s = fold([...attach, ...inCall]);
    const again = fold([...attach, ...inCall]);
    expect(renderPresence(again)).toBe(renderPresence(s));
    const later = fold([mapEvent(SUB, 'sendAuthenticationInfo', 'invoke', T + 500)], s);
    expect(later.version).toBeGreaterThan(s.version);
    expect(renderPresence(later)).toBe(renderPresence(s));
  });
});

describe('summary (current-presence record)', () => {
  it('flat fields of the Presence record', () => {
    const s = fold([...attach, ...inCall]);
    expect(summary(s)).toEqual({
      subscriber: SUB,
      version: s.version,
      basic: 'open',
      networkState: 'attached',
      callState: 'in-call',
      connectability: 'connectable',
      servingNode: '441122',
      cellGlobalId: '001-01-7005-31319',
      activities: 'on-the-phone',
      note: 'attached (MSC/VLR 441122)',
      pidf: renderPresence(s),
      dialogs: expect.any(String),
      updatedAt: s.updatedAt,
    });
  });

  it('dialogs: the calls for BLF list watchers, state and direction without identities', () => {
    const s = fold([...attach, ...inCall]);
    const dialogs = JSON.parse(summary(s).dialogs!) as Array<Record<string, unknown>>;
    expect(dialogs).toEqual([expect.objectContaining({ state: 'confirmed' })]);
    expect(dialogs[0]!.local).toBeUndefined();
    expect(dialogs[0]!.remote).toBeUndefined();
    expect(JSON.parse(summary(fold(attach)).dialogs!)).toEqual([]);
  });

  it('published note and activities; connectability from the settings given', () => {
    const s = fold([...attach, ...published(pidfBody('Gone fishing', 'away'))]);
    const p = summary(s, { availability: profilesFromSettings({ mode: 'away' }) });
    expect(p).toMatchObject({ activities: 'away', note: 'Gone fishing', connectability: 'not-connectable', callState: 'idle' });
  });
});
