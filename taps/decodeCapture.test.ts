// `presence decode` against tshark on the real captures: the same SIP
// methods and status codes, MAP components (invokes by operation code,
// results, errors) and ISUP message types, file by file.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tally, tshark, SIP_CAPTURES } from '../test/support/captures.ts';
import { decodeCaptures, signalJson } from './decodeCapture.ts';
import type { DecodedSignal } from './signal.ts';

const skip = !haveCaptures || !haveTshark;
if (skip) console.warn(`decode-vs-tshark tests skipped: ${!haveCaptures ? noCapturesReason : noTsharkReason}`);

const plan = { countryCode: '' };

async function decode(file: string): Promise<DecodedSignal[]> {
  const out: DecodedSignal[] = [];
  await decodeCaptures([capture(file)], plan, { signal: (s) => void out.push(s), failure: () => {} });
  return out;
}

/** tshark field rows; several messages in one frame come comma-joined. */
function tsharkValues(file: string, filter: string, field: string, extra: string[] = []): string[] {
  return tshark(['-r', capture(file), ...extra, '-Y', filter, '-T', 'fields', '-e', field])
    .flatMap((l) => l.split(','))
    .filter((v) => v.length > 0);
}

const SIP_FILES = SIP_CAPTURES;

describe.skipIf(skip)('decode matches tshark: SIP', () => {
  for (const file of SIP_FILES) {
    it(`${file}: methods and status codes`, async () => {
      const ours = await decode(file);
      const sip = ours.filter((s) => s.protocol === 'sip');
      expect(tally(sip.filter((s) => s.kind === 'request').map((s) => s.message))).toEqual(tally(tsharkValues(file, 'sip', 'sip.Method')));
      expect(tally(sip.filter((s) => s.kind === 'response').map((s) => s.message))).toEqual(tally(tsharkValues(file, 'sip', 'sip.Status-Code')));
      const callIds = new Set(sip.map((s) => s.sip!.message.callId));
      expect(callIds).toEqual(new Set(tsharkValues(file, 'sip', 'sip.Call-ID')));
    });
  }
});

const MAP_FILES = ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap', 'ss7/map-sms-m2pa.pcap'];

describe.skipIf(skip)('decode matches tshark: MAP', () => {
  for (const file of MAP_FILES) {
    it(`${file}: invokes by operation, results, errors; IMSIs`, async () => {
      const map = (await decode(file)).filter((s) => s.protocol === 'map');
      const rows = tshark(['-r', capture(file), '-Y', 'gsm_map', '-T', 'fields', '-E', 'separator=|', '-e', 'gsm_old.localValue', '-e', 'gsm_old.invoke_element', '-e', 'gsm_old.returnResultLast_element', '-e', 'gsm_old.returnError_element']);
      const invokes = rows.map((r) => r.split('|')).filter((c) => c[1]).flatMap((c) => c[0]!.split(','));
      expect(tally(map.filter((s) => s.kind === 'invoke').map((s) => String(s.ss7!.map!.opCode)))).toEqual(tally(invokes));
      expect(map.filter((s) => s.kind === 'result').length).toBe(rows.filter((r) => r.split('|')[2]).length);
      expect(map.filter((s) => s.kind === 'error').length).toBe(rows.filter((r) => r.split('|')[3]).length);
      // Every IMSI tshark sees is attributed to some message of ours.
      const ourImsis = new Set(map.flatMap((s) => s.parties.map((p) => p.ids.imsi)).filter(Boolean));
      for (const imsi of new Set(tsharkValues(file, 'gsm_map', 'e212.imsi'))) expect(ourImsis, imsi).toContain(imsi);
      // Results name the operation they answer, found through the transaction.
      for (const s of map.filter((x) => x.kind === 'result')) expect(s.message).not.toMatch(/^operation|unknown/);
    });
  }
});

describe.skipIf(skip)('decode matches tshark: ISUP', () => {
  it('ss7/isup-call-m3ua-draft6.pcap: the call, its numbers and CIC', async () => {
    const file = 'ss7/isup-call-m3ua-draft6.pcap';
    const isup = (await decode(file)).filter((s) => s.protocol === 'isup');
    const types = tsharkValues(file, 'isup', 'isup.message_type', ['-o', 'm3ua.version:draft-6']);
    expect(isup.map((s) => String(s.ss7!.isup!.type))).toEqual(types);
    expect(isup.map((s) => s.message)).toEqual(['IAM', 'CFN', 'ACM', 'ANM', 'REL', 'RLC']);
    expect(isup.every((s) => s.ss7!.isup!.cic === 213)).toBe(true);
    // Every message of the call carries both parties, through the CIC correlation.
    for (const s of isup) {
      const j = signalJson(s);
      expect(j.parties).toEqual([
        { role: 'calling', subscriber: 'msisdn:+3933399708' },
        { role: 'called', subscriber: 'msisdn:+4891' },
      ]);
    }
  });
});

describe.skipIf(skip)('decode: the TCAP load capture', () => {
  it('bench/sigtran-tcap-load.pcap.gz: every Begin and End, as tshark counts them', async () => {
    const ours = await decode('bench/sigtran-tcap-load.pcap.gz');
    const t = tally(ours.map((s) => s.message));
    const begins = tshark(['-r', capture('bench/sigtran-tcap-load.pcap.gz'), '-Y', 'tcap.begin_element', '-T', 'fields', '-e', 'frame.number']).length;
    const ends = tshark(['-r', capture('bench/sigtran-tcap-load.pcap.gz'), '-Y', 'tcap.end_element', '-T', 'fields', '-e', 'frame.number']).length;
    expect(t.begin).toBe(begins);
    expect(t.end).toBe(ends);
  }, 120_000);
});
