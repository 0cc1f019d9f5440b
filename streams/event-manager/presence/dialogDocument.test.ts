// Call legs → RFC 4235 dialog-info (busy lamp field): one <dialog> per call,
// direction from the subscriber's role, the FSM state from the call's phase,
// why it ended, identities only for watchers allowed to see them, and a
// fingerprint that changes with the calls and nothing else.
import { describe, expect, it } from 'vitest';
import { parseDialogInfo } from '../../../presence-document/dialogInfo.ts';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { isupEvent, mapEvent, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';
import { apply } from './derive.ts';
import { callDialogs, changeConcerns, changedDialogs, dialogFingerprint, matchesFilter, renderDialogDocument } from './dialogDocument.ts';
import type { SubscriberPresence } from './model.ts';

const A = 'msisdn:+351910000001';
const URI = 'sip:+351910000001@ims.example.net;user=phone';
const T = Date.UTC(2026, 0, 1, 8);

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const incoming = (msg: string, t: number, o: { cause?: number; presentation?: string; cic?: number } = {}) =>
  isupEvent(A, msg, t, {
    cic: o.cic ?? 7,
    opc: 100,
    dpc: 200,
    role: 'called',
    calling: '351210000009',
    called: '351910000001',
    cause: o.cause ?? null,
    callingPresentation: o.presentation ?? 'allowed',
  });
const outgoing = (msg: string, t: number, cause: number | null = null) =>
  isupEvent(A, msg, t, { cic: 9, opc: 200, dpc: 100, role: 'calling', calling: '351910000001', called: '351220000005', cause });

const allow = { entity: URI, showIdentities: true, nowMs: T + 10_000 };

describe('call legs → dialogs', () => {
  it('an incoming ISUP call: IAM trying → ACM early → ANM confirmed → REL terminated, the recipient, the caller as remote identity', () => {
    const s1 = fold([incoming('IAM', T)]);
    expect(callDialogs(s1, allow)).toEqual([
      {
        id: 'isup-100-200-7',
        direction: 'recipient',
        state: 'trying',
        duration: 10,
        local: { identity: URI },
        remote: { identity: 'tel:+351210000009' },
      },
    ]);
    const s2 = fold([incoming('ACM', T + 500)], s1);
    expect(callDialogs(s2, allow)[0]).toMatchObject({ state: 'early' });
    const s3 = fold([incoming('ANM', T + 4000)], s2);
    expect(callDialogs(s3, allow)[0]).toMatchObject({ state: 'confirmed' });
    const s4 = fold([incoming('REL', T + 64_000, { cause: 16 })], s3);
    const [ended] = callDialogs(s4, { ...allow, nowMs: T + 70_000 });
    // Hung up after the answer: who hung up is not known from one REL, so no event; the call lasted 64 s.
    expect(ended).toEqual({
      id: 'isup-100-200-7',
      direction: 'recipient',
      state: 'terminated',
      duration: 64,
      local: { identity: URI },
      remote: { identity: 'tel:+351210000009' },
    });
  });

  it('an outgoing call refused busy: the initiator, the called number as remote, terminated rejected with 486', () => {
    const s = fold([outgoing('IAM', T), outgoing('REL', T + 900, 17)]);
    expect(callDialogs(s, allow)).toEqual([
      {
        id: 'isup-100-200-9',
        direction: 'initiator',
        state: 'terminated',
        event: 'rejected',
        code: 486,
        duration: 0,
        local: { identity: URI },
        remote: { identity: 'tel:+351220000005' },
      },
    ]);
  });

  it('an unanswered call given up by the caller (normal clearing before ANM) is cancelled', () => {
    const s = fold([incoming('IAM', T), incoming('ACM', T + 100), incoming('REL', T + 20_000, { cause: 16 })]);
    expect(callDialogs(s, allow)[0]).toMatchObject({ state: 'terminated', event: 'cancelled' });
  });

  it('a caller whose presentation is restricted is never shown, even to a watcher allowed to see identities', () => {
    const s = fold([incoming('IAM', T, { presentation: 'restricted' }), incoming('ACM', T + 100)]);
    const [d] = callDialogs(s, allow);
    expect(d).toMatchObject({ state: 'early', local: { identity: URI } });
    expect(d!.remote).toBeUndefined();
    expect(renderDialogDocument(s, { ...allow, version: 3 })).not.toContain('351210000009');
  });

  it('a watcher not allowed call details sees the lamp (state, direction) but no identity', () => {
    const s = fold([incoming('IAM', T)]);
    const [d] = callDialogs(s, { ...allow, showIdentities: false });
    expect(d).toEqual({ id: 'isup-100-200-7', direction: 'recipient', state: 'trying', duration: 10 });
  });

  it('a SIP call: INVITE trying → 180 early → 200 confirmed, the Call-ID on the dialog, the other URI as remote', () => {
    const id = { callId: 'c1@pcscf', from: 'sip:bob@example.org', to: 'sip:+351910000001@ims.example.net' };
    const ev = (e: SignalingEvent) => ({ ...e, identities: { imsi: null, msisdn: '+351910000001', aor: null } });
    const s = fold([ev(sipRequest(A, 'INVITE', T, id)), ev(sipResponse(A, 'INVITE', 180, T + 100, id)), ev(sipResponse(A, 'INVITE', 200, T + 3000, id))]);
    expect(callDialogs(s, allow)).toEqual([
      {
        id: 'sip-c1@pcscf',
        callId: 'c1@pcscf',
        direction: 'recipient',
        state: 'confirmed',
        duration: 10,
        local: { identity: URI },
        remote: { identity: 'sip:bob@example.org' },
      },
    ]);
  });

  it('a terminated call is told once: the next call event drops it from the document', () => {
    const s1 = fold([outgoing('IAM', T), outgoing('REL', T + 900, 17)]);
    expect(callDialogs(s1, allow).map((d) => d.state)).toEqual(['terminated']);
    const s2 = fold([incoming('IAM', T + 60_000)], s1);
    expect(callDialogs(s2, allow).map((d) => [d.id, d.state])).toEqual([['isup-100-200-7', 'trying']]);
  });

  it('the fingerprint changes with the calls, and not with other presence facts or the clock', () => {
    const s1 = fold([incoming('IAM', T)]);
    const attached = fold([mapEvent(A, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', opc: 1, dpc: 2 })], s1);
    expect(attached.version).toBeGreaterThan(s1.version);
    expect(dialogFingerprint(attached)).toBe(dialogFingerprint(s1));
    expect(dialogFingerprint(fold([incoming('ACM', T + 2000)], attached))).not.toBe(dialogFingerprint(s1));
  });

  it("PUBLISHed dialogs (a PBX) are listed beside the taps' calls; a call both saw (same Call-ID) once, as the taps saw it", () => {
    const id = { callId: 'same@pbx', from: 'sip:bob@example.org', to: 'sip:+351910000001@ims.example.net' };
    const ev = (e: SignalingEvent) => ({ ...e, identities: { imsi: null, msisdn: '+351910000001', aor: null } });
    const taps = fold([incoming('IAM', T), ev(sipRequest(A, 'INVITE', T + 50, id))]);
    const published = parseDialogInfo(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full" entity="${URI}">
      <dialog id="x1" call-id="pbx-only@pbx" direction="initiator"><state>confirmed</state><duration>42</duration>
        <local><identity>sip:201@pbx</identity></local><remote><identity display="Reception">sip:100@pbx</identity></remote></dialog>
      <dialog id="x2" call-id="same@pbx" direction="recipient"><state>early</state></dialog>
    </dialog-info>`);
    const s: SubscriberPresence = { ...taps, dialogPublications: [{ etag: 'e1', document: published, body: '', publishedAt: T, expiresAt: T + 600_000 }] };
    expect(callDialogs(s, allow).map((d) => [d.id, d.state])).toEqual([
      ['isup-100-200-7', 'trying'],
      ['sip-same@pbx', 'trying'],
      ['pub-x1', 'confirmed'],
    ]);
    expect(callDialogs(s, allow)[2]).toEqual({
      id: 'pub-x1',
      callId: 'pbx-only@pbx',
      direction: 'initiator',
      state: 'confirmed',
      duration: 42,
      local: { identity: URI },
      remote: { identity: 'sip:100@pbx', displayName: 'Reception' },
    });
    // A watcher not allowed identities sees the PBX's call without them too.
    expect(callDialogs(s, { ...allow, showIdentities: false })[2]).toEqual({
      id: 'pub-x1',
      callId: 'pbx-only@pbx',
      direction: 'initiator',
      state: 'confirmed',
      duration: 42,
    });
    expect(dialogFingerprint(s)).not.toBe(dialogFingerprint(taps));
  });

  it('renders a full RFC 4235 document with the version given; no call → no dialog', () => {
    const s = fold([incoming('IAM', T), incoming('ACM', T + 100)]);
    const doc = parseDialogInfo(renderDialogDocument(s, { ...allow, version: 5 }));
    expect(doc).toMatchObject({ entity: URI, version: 5, state: 'full', dialogs: [{ state: 'early', direction: 'recipient' }] });
    const none = parseDialogInfo(renderDialogDocument(fold([mapEvent(A, 'purgeMS', 'invoke', T, {})]), { ...allow, version: 1 }));
    expect(none.dialogs).toEqual([]);
  });
});

describe('partial state (RFC 4235 §4.1)', () => {
  const pbx = (dialogs: string): SubscriberPresence['dialogPublications'] => [
    {
      etag: 'e1',
      document: parseDialogInfo(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="${URI}">${dialogs}</dialog-info>`),
      body: '',
      publishedAt: T,
      expiresAt: T + 600_000,
    },
  ];

  it('after what was told, only the dialogs that are new or changed; the partial document lists those alone', () => {
    const s1 = fold([incoming('IAM', T), outgoing('IAM', T + 10)]);
    const told = dialogFingerprint(s1);
    const s2 = fold([incoming('ACM', T + 100)], s1);
    const changed = changedDialogs(told, s2);
    expect(changed).toEqual(new Set(['isup-100-200-7']));
    const doc = parseDialogInfo(renderDialogDocument(s2, { ...allow, version: 3, changed }));
    expect(doc).toMatchObject({ version: 3, state: 'partial' });
    expect(doc.dialogs.map((d) => [d.id, d.state])).toEqual([['isup-100-200-7', 'early']]);
    // Nothing told before: full state.
    expect(changedDialogs(null, s2)).toBeNull();
  });

  it('a terminated dialog dropping out is no change; a live one vanishing (PBX removed it) needs full state', () => {
    const s1 = fold([outgoing('IAM', T), outgoing('REL', T + 900, 17)]);
    const s2 = fold([incoming('IAM', T + 60_000)], s1);
    expect(changedDialogs(dialogFingerprint(s1), s2)).toEqual(new Set(['isup-100-200-7']));
    const live: SubscriberPresence = { ...s1, calls: [], dialogPublications: pbx('<dialog id="p1" call-id="c@pbx"><state>confirmed</state></dialog>') };
    expect(changedDialogs(dialogFingerprint(live), { ...live, dialogPublications: [] })).toBeNull();
    const ended: SubscriberPresence = { ...live, dialogPublications: pbx('<dialog id="p1" call-id="c@pbx"><state>terminated</state></dialog>') };
    expect(changedDialogs(dialogFingerprint(ended), { ...ended, dialogPublications: [] })).toEqual(new Set());
  });
});

describe('Event: dialog;call-id;to-tag;from-tag (RFC 4235 §3.2)', () => {
  const s = fold([incoming('IAM', T)]);
  const withPbx: SubscriberPresence = {
    ...s,
    dialogPublications: [
      {
        etag: 'e1',
        document: parseDialogInfo(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="${URI}">
          <dialog id="p1" call-id="one@pbx" local-tag="lt1" remote-tag="rt1"><state>early</state></dialog>
          <dialog id="p2" call-id="two@pbx" local-tag="lt2" remote-tag="rt2"><state>confirmed</state></dialog></dialog-info>`),
        body: '',
        publishedAt: T,
        expiresAt: T + 600_000,
      },
    ],
  };

  it('only the named dialog: Call-ID, to-tag against the local tag, from-tag against the remote tag', () => {
    const only = (filter: { callId: string; toTag: string | null; fromTag: string | null }) => callDialogs(withPbx, { ...allow, filter }).map((d) => d.id);
    expect(only({ callId: 'two@pbx', toTag: null, fromTag: null })).toEqual(['pub-p2']);
    expect(only({ callId: 'two@pbx', toTag: 'lt2', fromTag: 'rt2' })).toEqual(['pub-p2']);
    expect(only({ callId: 'two@pbx', toTag: 'lt1', fromTag: 'rt2' })).toEqual([]);
    expect(only({ callId: 'two@pbx', toTag: 'lt2', fromTag: 'other' })).toEqual([]);
    expect(only({ callId: 'nope', toTag: null, fromTag: null })).toEqual([]);
    // The tags of a published dialog are told, so a watcher can name it.
    expect(callDialogs(withPbx, allow)[1]).toMatchObject({ id: 'pub-p1', localTag: 'lt1', remoteTag: 'rt1' });
    // A tapped SIP call has no tags kept: its Call-ID names it.
    expect(matchesFilter({ id: 'sip-x', callId: 'x', state: 'trying' }, { callId: 'x', toTag: 'a', fromTag: 'b' })).toBe(true);
  });

  it('a change concerns a filtered subscription only when it touches its dialog', () => {
    const changed = new Set(['isup-100-200-7']);
    expect(changeConcerns(withPbx, changed, { callId: 'two@pbx', toTag: null, fromTag: null })).toBe(false);
    expect(changeConcerns(withPbx, new Set(['pub-p2']), { callId: 'two@pbx', toTag: null, fromTag: null })).toBe(true);
    expect(changeConcerns(withPbx, changed, null)).toBe(true);
    expect(changeConcerns(withPbx, null, { callId: 'none', toTag: null, fromTag: null })).toBe(true);
  });
});
