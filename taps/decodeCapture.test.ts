// `presence decode` against tshark on the real captures: the same SIP
// methods and status codes, MAP components (invokes by operation code,
// results, errors) and ISUP message types, file by file.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tally, tshark, SIP_CAPTURES } from '../test/support/captures.ts';
import { decodeCaptures, signalJson } from './decodeCapture.ts';
import type { DecodedSignal } from './signal.ts';
import { ISUP_FIXTURE, MAP_FIXTURE, SIP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, fixtureSubscriber, tsharkNote } from '../test/support/fixtures.ts';

const skip = !haveCaptures || !haveTshark;
if (skip) console.warn(`decode-vs-tshark tests skipped: ${!haveCaptures ? noCapturesReason : noTsharkReason}`);

const plan = { countryCode: '' };

/** A shared capture by its relative name, or any file by its absolute path (the generated fixtures). */
const where = (file: string): string => (path.isAbsolute(file) ? file : capture(file));

async function decode(file: string): Promise<DecodedSignal[]> {
  const out: DecodedSignal[] = [];
  await decodeCaptures([where(file)], plan, { signal: (s) => void out.push(s), failure: () => {} });
  return out;
}

/** tshark field rows; several messages in one frame come comma-joined. */
function tsharkValues(file: string, filter: string, field: string, extra: string[] = []): string[] {
  return tshark(['-r', where(file), ...extra, '-Y', filter, '-T', 'fields', '-e', field])
    .flatMap((l) => l.split(','))
    .filter((v) => v.length > 0);
}

const SIP_FILES = SIP_CAPTURES;

/** SIP methods, status codes and Call-IDs, ours and tshark's. */
async function sipMatchesTshark(file: string): Promise<void> {
  const ours = await decode(file);
  const sip = ours.filter((s) => s.protocol === 'sip');
  expect(tally(sip.filter((s) => s.kind === 'request').map((s) => s.message))).toEqual(tally(tsharkValues(file, 'sip', 'sip.Method')));
  expect(tally(sip.filter((s) => s.kind === 'response').map((s) => s.message))).toEqual(tally(tsharkValues(file, 'sip', 'sip.Status-Code')));
  const callIds = new Set(sip.map((s) => s.sip!.message.callId));
  expect(callIds).toEqual(new Set(tsharkValues(file, 'sip', 'sip.Call-ID')));
}

describe.skipIf(skip)('decode matches tshark: SIP', () => {
  for (const file of SIP_FILES) {
    it(`${file}: methods and status codes`, async () => {
      await sipMatchesTshark(file);
    });
  }
});

const MAP_FILES = ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap', 'ss7/map-sms-m2pa.pcap'];

/** MAP invokes by operation, results, errors and IMSIs, ours and tshark's. */
async function mapMatchesTshark(file: string): Promise<void> {
  const map = (await decode(file)).filter((s) => s.protocol === 'map');
  const rows = tshark([
    '-r',
    where(file),
    '-Y',
    'gsm_map',
    '-T',
    'fields',
    '-E',
    'separator=|',
    '-e',
    'gsm_old.localValue',
    '-e',
    'gsm_old.invoke_element',
    '-e',
    'gsm_old.returnResultLast_element',
    '-e',
    'gsm_old.returnError_element',
  ]);
  const invokes = rows
    .map((r) => r.split('|'))
    .filter((c) => c[1])
    .flatMap((c) => c[0]!.split(','));
  expect(tally(map.filter((s) => s.kind === 'invoke').map((s) => String(s.ss7!.map!.opCode)))).toEqual(tally(invokes));
  expect(map.filter((s) => s.kind === 'result').length).toBe(rows.filter((r) => r.split('|')[2]).length);
  expect(map.filter((s) => s.kind === 'error').length).toBe(rows.filter((r) => r.split('|')[3]).length);
  // Every IMSI tshark sees is attributed to some message of ours.
  const ourImsis = new Set(map.flatMap((s) => s.parties.map((p) => p.ids.imsi)).filter(Boolean));
  for (const imsi of new Set(tsharkValues(file, 'gsm_map', 'e212.imsi'))) expect(ourImsis, imsi).toContain(imsi);
  // Results name the operation they answer, found through the transaction.
  for (const s of map.filter((x) => x.kind === 'result')) expect(s.message).not.toMatch(/^operation|unknown/);
}

describe.skipIf(skip)('decode matches tshark: MAP', () => {
  for (const file of MAP_FILES) {
    it(`${file}: invokes by operation, results, errors; IMSIs`, async () => {
      await mapMatchesTshark(file);
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

describe.skipIf(!haveTshark)(`decode matches tshark on the generated fixtures${tsharkNote}`, () => {
  it(`${SIP_FIXTURE}: methods and status codes`, () => sipMatchesTshark(fixturePath(SIP_FIXTURE)));
  it(`${MAP_FIXTURE}: invokes by operation, results, errors; IMSIs`, () => mapMatchesTshark(fixturePath(MAP_FIXTURE)));
  it(`${ISUP_FIXTURE}: message types`, async () => {
    const isup = await decode(fixturePath(ISUP_FIXTURE));
    expect(isup.map((s) => String(s.ss7!.isup!.type))).toEqual(tsharkValues(fixturePath(ISUP_FIXTURE), 'isup', 'isup.message_type'));
  });
});

describe('decode on the generated fixtures, against the generator', () => {
  it(`${MAP_FIXTURE}: one signal per component the generator wrote, naming its subscriber by IMSI or MSISDN`, async () => {
    const log = fixtureLog(MAP_FIXTURE);
    const map = await decode(fixturePath(MAP_FIXTURE));
    expect(map.map((s) => s.frame)).toEqual(log.map((_, i) => i + 1));
    map.forEach((s, i) => {
      const { message, subscriber } = log[i]!.meta;
      const [op, kind] = message.split('.') as [string, string];
      // Results and errors name the operation they answer, found through the transaction.
      expect([s.protocol, s.message, s.kind], message).toEqual(['map', op, kind]);
      if (subscriber < 0) return; // a number that does not exist
      const id = fixtureSubscriber(subscriber);
      const ids = s.parties[0]?.ids;
      expect(ids?.imsi === id.imsi || ids?.msisdn === `+${id.msisdn}`, `frame ${s.frame} ${message}: ${JSON.stringify(s.parties)}`).toBe(true);
    });
  });

  it(`${ISUP_FIXTURE}: every message of a call names both parties; an MSC's call is from its subscriber`, async () => {
    const log = fixtureLog(ISUP_FIXTURE);
    const isup = await decode(fixturePath(ISUP_FIXTURE));
    const mscPcs = new Set(fixtureNetwork().mscs.map((n) => n.pc));
    expect(isup.map((s) => s.message)).toEqual(log.map((p) => p.meta.message));
    const origin = new Map<string, boolean>();
    isup.forEach((s, i) => {
      expect(
        s.parties.map((p) => p.role),
        `frame ${s.frame}`,
      ).toEqual(['calling', 'called']);
      const key = `${s.ss7!.isup!.cic}/${log[i]!.meta.subscriber}`;
      if (s.message === 'IAM') origin.set(key, mscPcs.has(s.ss7!.opc));
      if (origin.get(key)) expect(s.parties[0]!.ids.msisdn, `frame ${s.frame}`).toBe(`+${fixtureSubscriber(log[i]!.meta.subscriber).msisdn}`);
    });
    expect([...origin.values()]).toContain(true);
  });

  it(`${SIP_FIXTURE}: every message the generator wrote, about its subscriber (a SUBSCRIBE's watcher is its From)`, async () => {
    const log = fixtureLog(SIP_FIXTURE);
    const sip = await decode(fixturePath(SIP_FIXTURE));
    expect(sip.map((s) => (s.kind === 'request' ? s.message : `${s.message} ${s.sip!.message.cseq.method}`))).toEqual(log.map((p) => p.meta.message));
    sip.forEach((s, i) => {
      const aor = fixtureSubscriber(log[i]!.meta.subscriber).aor;
      if (s.sip!.message.cseq.method === 'SUBSCRIBE') expect(s.sip!.message.from?.uri, `frame ${s.frame}`).toBe(aor);
      else expect(s.parties[0]?.ids.aor, `frame ${s.frame} ${log[i]!.meta.message}`).toBe(aor);
    });
  });
});
