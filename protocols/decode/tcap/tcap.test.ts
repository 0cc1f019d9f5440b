// TCAP (Q.773): hand-built messages for every component kind and dialogue
// portion; the captures' transaction ids and application contexts against
// tshark; Begin/End counts of the bench file against tshark.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { capture, haveCaptures, haveTshark, tshark } from '../../../test/support/captures.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { hex } from '../../../test/support/hex.ts';
import { tlv } from '../ber/encode.ts';
import { DecodeError } from '../layer.ts';
import { Ss7Dissector } from '../ss7Dissector.ts';
import { decodeTcap } from './tcap.ts';
import { appContextInfo } from './applicationContexts.ts';
import { MAP_FIXTURE, fixtureLog, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

// Dialogue portion: EXTERNAL { dialogue-as-id OID, [0] AARQ { protocol-version, [1] AC name } }.
const AC_NETWORK_LOC_UP_V3 = hex('06 07 04 00 00 01 00 01 03');
const dialogue = (pdu: number) =>
  tlv(0x6b, tlv(0x28, hex('06 07 00 11 86 05 01 01 01'), tlv(0xa0, tlv(pdu, tlv(0x80, [0x07, 0x80]), tlv(0xa1, AC_NETWORK_LOC_UP_V3)))));

describe('TCAP hand-built', () => {
  it('Begin with otid, AARQ application context and two invokes (one linked)', () => {
    const b = tlv(
      0x62,
      tlv(0x48, hex('0a0b0c0d')),
      dialogue(0x60),
      tlv(0x6c, tlv(0xa1, tlv(0x02, [1]), tlv(0x02, [2]), tlv(0x30, tlv(0x04, hex('00f1')))), tlv(0xa1, tlv(0x02, [2]), tlv(0x80, [1]), tlv(0x02, [7]))),
    );
    const t = decodeTcap(b);
    expect(t.type).toBe('begin');
    expect(t.otid).toBe('0a0b0c0d');
    expect(t.dialogue).toBe('request');
    expect(t.appContextOid).toBe('0.4.0.0.1.0.1.3');
    expect(t.appContext).toBe('networkLocUpContext-v3');
    expect(t.mapVersion).toBe(3);
    expect(t.components).toHaveLength(2);
    expect(t.components[0]).toMatchObject({ kind: 'invoke', invokeId: 1, opCode: 2 });
    expect(t.components[0]!.param!.toString('hex')).toBe('30040402' + '00f1');
    expect(t.components[1]).toMatchObject({ kind: 'invoke', invokeId: 2, linkedId: 1, opCode: 7 });
    expect(t.components[1]!.param).toBeUndefined();
  });

  it('Continue with ReturnResultNotLast, ReturnResultLast without parameters, ReturnError and Reject', () => {
    const b = tlv(
      0x65,
      tlv(0x48, [1]),
      tlv(0x49, [2, 3]),
      tlv(
        0x6c,
        tlv(0xa7, tlv(0x02, [1]), tlv(0x30, tlv(0x02, [56]), tlv(0x30, []))),
        tlv(0xa2, tlv(0x02, [3])),
        tlv(0xa3, tlv(0x02, [4]), tlv(0x02, [27])),
        tlv(0xa4, tlv(0x05, []), tlv(0x80, [1])),
        tlv(0xa4, tlv(0x02, [0xff]), tlv(0x82, [2])),
      ),
    );
    const t = decodeTcap(b);
    expect(t).toMatchObject({ type: 'continue', otid: '01', dtid: '0203' });
    expect(t.components.map((c) => [c.kind, c.last, c.invokeId, c.opCode ?? c.errorCode ?? c.problem?.type])).toEqual([
      ['result', false, 1, 56],
      ['result', true, 3, undefined],
      ['error', true, 4, 27],
      ['reject', true, undefined, 'general'],
      ['reject', true, -1, 'returnResult'],
    ]);
  });

  it('End with AARE in indefinite-length encoding', () => {
    // Same content, outer message and component portion with 0x80 lengths and 00 00 end-of-contents.
    const comps = Buffer.concat([hex('6c 80'), tlv(0xa2, tlv(0x02, [1])), hex('00 00')]);
    const b = Buffer.concat([hex('64 80'), tlv(0x49, hex('11223344')), dialogue(0x61), comps, hex('00 00')]);
    const t = decodeTcap(b);
    expect(t).toMatchObject({ type: 'end', dtid: '11223344', dialogue: 'response', appContext: 'networkLocUpContext-v3' });
    expect(t.components).toHaveLength(1);
  });

  it('Abort with P-abort cause', () => {
    const t = decodeTcap(tlv(0x67, tlv(0x49, [9]), tlv(0x4a, [1])));
    expect(t).toMatchObject({ type: 'abort', dtid: '09', abortCause: 'unrecognizedTransactionID', components: [] });
  });

  it('names MAP application contexts and leaves others unnamed', () => {
    expect(appContextInfo('0.4.0.0.1.0.29.3')).toEqual({ name: 'anyTimeInfoEnquiryContext-v3', mapVersion: 3 });
    expect(appContextInfo('0.4.0.0.1.0.25.2').name).toBe('shortMsgMT-RelayContext-v2');
    expect(appContextInfo('0.4.0.0.1.0.50.1').name).toBeUndefined(); // CAP v2
  });

  it('throws DecodeError on unknown tags, bad ids and truncation', () => {
    expect(() => decodeTcap(hex('63 00'))).toThrow(/unknown/);
    expect(() => decodeTcap(tlv(0x62, tlv(0x48, [1, 2, 3, 4, 5])))).toThrow(/malformed/);
    expect(() => decodeTcap(hex('62 10 48 04 01'))).toThrow(DecodeError);
    expect(() => decodeTcap(tlv(0x62, tlv(0x6c, tlv(0xa9, tlv(0x02, [1])))))).toThrow(/component tag/);
  });
});

function transactionsMatchTshark(file: string): void {
  const d = new Ss7Dissector();
  const ours = new Map<number, NonNullable<ReturnType<Ss7Dissector['decode']>[number]['tcap']>>();
  for (const u of sctpUserMessages(file)) for (const m of d.decode(u.payload, u.ppid, u)) if (m.tcap) ours.set(u.frame, m.tcap);
  // tshark hands the data of returned XUDTS segments to TCAP and shows an
  // empty TCAP tree for them; we report those as SCCP returns instead.
  const rows = tsharkFields(file, 'tcap.begin_element || tcap.continue_element || tcap.end_element || tcap.abort_element', [
    'tcap.begin_element',
    'tcap.continue_element',
    'tcap.end_element',
    'tcap.otid',
    'tcap.dtid',
    'tcap.application_context_name',
  ]);
  expect([...ours.keys()]).toEqual(rows.map((r) => r.frame));
  for (const { frame, fields } of rows) {
    const [b, c, e, otid, dtid, ac] = fields;
    const t = ours.get(frame)!;
    expect(t.type).toBe(b!.length ? 'begin' : c!.length ? 'continue' : e!.length ? 'end' : '?');
    expect(t.otid ? [t.otid] : []).toEqual(otid);
    expect(t.dtid ? [t.dtid] : []).toEqual(dtid);
    expect(t.appContextOid ? [t.appContextOid] : []).toEqual(ac);
  }
}

describe.skipIf(!haveCaptures || !haveTshark)(`TCAP vs tshark${oracleNote}`, () => {
  for (const rel of ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap', 'ss7/map-sms-m2pa.pcap']) {
    it(`${rel}: message type, otid/dtid, application context per frame`, () => {
      transactionsMatchTshark(capture(rel));
    });
  }

  it('bench/sigtran-tcap-load.pcap.gz: Begin and End counts equal tshark, all without MAP', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tcap-bench-'));
    try {
      const file = path.join(dir, 'bench.pcap');
      writeFileSync(file, gunzipSync(readFileSync(capture('bench/sigtran-tcap-load.pcap.gz'))));
      const lines = tshark(['-r', file, '-Y', 'tcap', '-T', 'fields', '-e', 'tcap.begin_element', '-e', 'tcap.end_element']);
      const theirs = { begin: lines.filter((l) => l.startsWith('1')).length, end: lines.filter((l) => l.endsWith('1')).length };
      const d = new Ss7Dissector();
      const counts: Record<string, number> = {};
      for (const u of sctpUserMessages(file)) {
        for (const m of d.decode(u.payload, u.ppid, u)) {
          expect(m.protocol).toBe('tcap');
          counts[m.tcap!.type] = (counts[m.tcap!.type] ?? 0) + 1;
        }
      }
      expect(counts).toEqual(theirs);
      expect(theirs.begin + theirs.end).toBe(119_847); // the README's count
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!haveTshark)(`TCAP vs tshark on the generated fixture${tsharkNote}`, () => {
  it(`${MAP_FIXTURE}: message type, otid/dtid, application context per frame`, () => transactionsMatchTshark(fixturePath(MAP_FIXTURE)));
});

describe('TCAP on the generated fixture, against the generator', () => {
  it(`${MAP_FIXTURE}: invokes open dialogues (or continue them), results and errors close them, ids pair up`, () => {
    const log = fixtureLog(MAP_FIXTURE);
    const d = new Ss7Dissector();
    const ours = sctpUserMessages(fixturePath(MAP_FIXTURE)).flatMap((u) => d.decode(u.payload, u.ppid, u).map((m) => m.tcap!));
    expect(ours).toHaveLength(log.length);
    const open = new Set<string>();
    let continues = 0;
    ours.forEach((t, i) => {
      const message = log[i]!.meta.message;
      const invoke = message.endsWith('.invoke');
      expect(t.type, `record ${i}: ${message}`).toBe(t.type === 'continue' ? 'continue' : invoke ? 'begin' : 'end');
      if (t.type === 'begin') {
        expect(t.otid).toMatch(/^[0-9a-f]{8}$/);
        expect(t.appContext, message).toMatch(/-v3$/);
        open.add(t.otid!);
      } else if (t.type === 'end') {
        expect(open.delete(t.dtid!), `record ${i}: END for an unknown dialogue`).toBe(true);
      } else {
        continues++;
        expect(message.startsWith('insertSubscriberData.')).toBe(true);
        expect(t.otid && t.dtid).toBeTruthy();
      }
    });
    // The scenario puts half the location updates' ISD in the UL dialogue.
    expect(continues).toBeGreaterThan(0);
    expect(continues % 2).toBe(0);
    // Dialogues still open when the six minutes end: no more than the last few seconds' worth.
    expect(open.size).toBeLessThan(5);
  });
});
