// Folding the events of replayed real captures (decoded and built into
// SignalingEvents exactly as `presence replay` does) into presence states.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptures, partyKey } from '../../../taps/decodeCapture.ts';
import { signalingEvents } from '../../../taps/eventBuilder.ts';
import type { Party } from '../../../taps/signal.ts';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { capture, haveCaptures, noCapturesReason } from '../../../test/support/captures.ts';
import { apply } from './derive.ts';
import { DuplicateWindow } from './duplicateWindow.ts';
import { callDialogs } from './dialogDocument.ts';
import { callStateOf, servingNodeOf, type SubscriberPresence } from './model.ts';
import { summary } from './summary.ts';

const LU = 'ss7/map-location-update-m3ua.pcap';
const ISUP = 'ss7/isup-call-m3ua-draft6.pcap';
const ATI = 'ss7/map-lu-ati-m3ua.pcap';
const present = (f: string) => haveCaptures && existsSync(capture(f));
for (const f of [LU, ISUP, ATI]) if (!present(f)) console.warn(`replay fold of ${f} skipped: ${haveCaptures ? `${capture(f)} is absent` : noCapturesReason}`);

// As a subscriber directory would: one key per subscriber whichever identity a message names (IMSI first).
const keyOf = (p: Party) => (p.ids.imsi ? `imsi:${p.ids.imsi}` : partyKey(p.ids));

async function replayEvents(file: string): Promise<SignalingEvent[]> {
  const out: SignalingEvent[] = [];
  await decodeCaptures(
    [capture(file)],
    { countryCode: '' },
    {
      signal: (s) => void out.push(...signalingEvents(s, { tap: 'replay', capture: path.basename(file) }, keyOf)),
      failure: () => {},
    },
  );
  return out;
}

/** Folds every subscriber's events; `after` sees each state as it evolves. */
function foldAll(events: SignalingEvent[], after?: (e: SignalingEvent, s: SubscriberPresence) => void): Map<string, SubscriberPresence> {
  const states = new Map<string, SubscriberPresence>();
  // As the event manager does: repeats of recent event ids are dropped before apply().
  const window = new DuplicateWindow();
  for (const e of events) {
    if (window.seen(e.eventId, e.time)) continue;
    window.commit();
    const s = apply(states.get(e.subscriber), e).state;
    states.set(e.subscriber, s);
    after?.(e, s);
  }
  return states;
}

describe.skipIf(!present(LU))(`replayed ${LU}`, () => {
  it('IMSI 001011356567851 is attached at VLR 441122 (point code 2105) since the updateLocation result', async () => {
    const events = await replayEvents(LU);
    const states = foldAll(events);
    const s = states.get('imsi:001011356567851')!;
    const result = events.find((e) => e.subscriber === 'imsi:001011356567851' && e.message === 'updateLocation' && e.kind === 'result')!;
    expect(s.network).toMatchObject({ state: 'attached', since: result.time, vlr: { number: '441122', pointCode: 2105 }, mscNumber: '441122', pending: null });
    expect(servingNodeOf(s)).toBe('441122');
    expect(summary(s)).toMatchObject({ basic: 'open', networkState: 'attached', servingNode: '441122', connectability: 'connectable' });
    expect(states.get('imsi:001011356567853')?.network.state).toBe('attached');
  });

  it('replaying the same capture twice (same event ids) changes nothing the second time', async () => {
    const events = await replayEvents(LU);
    const once = foldAll(events);
    const twice = foldAll([...events, ...events]);
    expect(twice.get('imsi:001011356567851')!.version).toBe(once.get('imsi:001011356567851')!.version);
  });
});

describe.skipIf(!present(ISUP))(`replayed ${ISUP}`, () => {
  it('both parties: alerting after IAM, in a call after ANM, idle after REL with cause 16', async () => {
    const seen: Record<string, string[]> = {};
    const states = foldAll(await replayEvents(ISUP), (e, s) => {
      (seen[e.subscriber] ??= []).push(`${e.message}:${callStateOf(s)}`);
    });
    for (const party of ['msisdn:+3933399708', 'msisdn:+4891']) {
      expect(seen[party]).toEqual(['IAM:alerting', 'CFN:alerting', 'ACM:alerting', 'ANM:in-call', 'REL:idle', 'RLC:idle']);
      expect(states.get(party)!.calls).toEqual([expect.objectContaining({ key: 'isup:11522-12163:213', phase: 'released', cause: 16 })]);
    }
    expect(states.get('msisdn:+3933399708')!.calls[0]!.role).toBe('calling');
    expect(states.get('msisdn:+3933399708')!.activity['call-made']).toBeDefined();
    expect(states.get('msisdn:+4891')!.activity['call-received']).toBeDefined();
  });

  it("the IAM's calling party number says presentation restricted: the called party's lamp shows the call but never the caller", async () => {
    const events = await replayEvents(ISUP);
    expect(events.find((e) => e.message === 'IAM')!.isup!.callingPresentation).toBe('restricted');
    const states = foldAll(events);
    const called = states.get('msisdn:+4891')!;
    expect(called.calls[0]).toMatchObject({ role: 'called', remote: '+3933399708', remoteRestricted: true });
    const [lamp] = callDialogs(called, { entity: 'tel:+4891', showIdentities: true });
    expect(lamp).toMatchObject({ direction: 'recipient', state: 'terminated', local: { identity: 'tel:+4891' } });
    expect(lamp!.remote).toBeUndefined();
    // The caller's own lamp names whom it called: a called number is not restricted by the caller's presentation.
    const [own] = callDialogs(states.get('msisdn:+3933399708')!, { entity: 'tel:+3933399708', showIdentities: true });
    expect(own).toMatchObject({ direction: 'initiator', remote: { identity: 'tel:+4891' } });
  });
});

describe.skipIf(!present(ATI))(`replayed ${ATI}`, () => {
  it('anyTimeInterrogation gives state and cell; a refused location update leaves the subscriber detached', async () => {
    const states = foldAll(await replayEvents(ATI));
    const ati = states.get('msisdn:+918793714126')!;
    expect(ati.network).toMatchObject({ state: 'attached', reportedState: 'assumedIdle', vlr: { number: '919028055000' } });
    expect(ati.location).toMatchObject({ cellGlobalId: '405-037-7005-31319', ageMinutes: 2 });
    expect(states.get('imsi:405037027451342')!.network).toMatchObject({ state: 'detached', reason: 'roamingNotAllowed' });
  });
});
