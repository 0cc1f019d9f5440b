// The generated capture checked against Wireshark: well-formed at every
// layer, and decoding to exactly the traffic the generator says it wrote.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTshark, noTsharkReason, tshark } from '../../test/support/captures.ts';
import { generatePackets, generateToPcap, subscriberIdentity } from './generate.ts';
import type { GenerateOptions, GenerateSummary, GeneratedPacket } from './generate.ts';
import { ISUP_TYPES } from './isup.ts';
import type { IsupMessage } from './isup.ts';
import { MAP_ERRORS, MAP_OPERATIONS } from './map.ts';
import type { MapError, MapOperation } from './map.ts';
import { BUSY_MIX } from '../../test/support/busyMix.ts';

if (!haveTshark) console.warn(`generator tshark checks skipped: ${noTsharkReason}`);

const opts: GenerateOptions = {
  subscribers: 50,
  durationSeconds: 600,
  seed: 20260101,
  countryCode: '999',
  mcc: '001',
  mnc: '01',
  // Busier than the defaults so ten minutes exercise every flow.
  mix: {
    ...BUSY_MIX,
    unknownShare: 0.1,
  },
};

const dir = mkdtempSync(path.join(tmpdir(), 'gen-'));
const file = path.join(dir, 'a.pcap');
let summary: GenerateSummary;
let packets: GeneratedPacket[];

beforeAll(async () => {
  summary = await generateToPcap({ ...opts, out: file });
  packets = [...generatePackets(opts)];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counts(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** tshark fields per frame, aligned with the generator's packets by frame number. */
function fields(filter: string, ...names: string[]): string[][] {
  return tshark([
    '-r',
    file,
    '-Y',
    filter,
    '-T',
    'fields',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    '-e',
    'frame.number',
    ...names.flatMap((n) => ['-e', n]),
  ]).map((l) => l.split('\t'));
}

describe('generateToPcap summary', () => {
  it('covers every MAP operation, result kind, ISUP message and SIP method', () => {
    const map = Object.keys(summary.byMessage.map);
    for (const op of Object.keys(MAP_OPERATIONS)) expect(map, op).toContain(`${op}.invoke`);
    for (const k of [
      'updateLocation.result',
      'sendRoutingInfo.result',
      'sendRoutingInfoForSM.result',
      'anyTimeInterrogation.result',
      'sendRoutingInfo.error.unknownSubscriber',
      'sendRoutingInfo.error.absentSubscriber',
    ]) {
      expect(map).toContain(k);
    }
    expect(Object.keys(summary.byMessage.isup).sort()).toEqual(Object.keys(ISUP_TYPES).sort());
    for (const k of [
      'REGISTER',
      '200 REGISTER',
      'INVITE',
      '180 INVITE',
      '200 INVITE',
      '486 INVITE',
      '480 INVITE',
      'ACK',
      'BYE',
      'SUBSCRIBE',
      'NOTIFY',
      'PUBLISH',
      '200 PUBLISH',
      'MESSAGE',
    ]) {
      expect(Object.keys(summary.byMessage.sip)).toContain(k);
    }
    expect(summary.packets).toBe(packets.length);
    expect(summary.byProtocol.map + summary.byProtocol.isup + summary.byProtocol.sip).toBe(summary.packets);
    expect(summary.bytes).toBe(packets.reduce((n, p) => n + p.frame.length, 0));
    expect(summary.subscribersSeen).toBe(new Set(packets.map((p) => p.meta.subscriber).filter((s) => s >= 0)).size);
  });

  it('writes the very frames and times generatePackets yields', () => {
    const b = readFileSync(file);
    let off = 24;
    let i = 0;
    for (; off < b.length; i++) {
      const sec = BigInt(b.readUInt32LE(off));
      const usec = BigInt(b.readUInt32LE(off + 4));
      const len = b.readUInt32LE(off + 8);
      const p = packets[i]!;
      expect(sec * 1_000_000n + usec, `record ${i}`).toBe(p.timeNs / 1000n);
      expect(b.subarray(off + 16, off + 16 + len).equals(p.frame), `record ${i}`).toBe(true);
      off += 16 + len;
    }
    expect(i).toBe(packets.length);
  });

  it('reports progress and ends with the full count', async () => {
    const seen: number[] = [];
    const s = await generateToPcap({ ...opts, out: path.join(dir, 'p.pcap') }, (p) => {
      expect(p.durationSeconds).toBe(opts.durationSeconds);
      seen.push(p.packets);
    });
    expect(seen.at(-1)).toBe(s.packets);
  });

  it('writes the same bytes for the same seed and different bytes for another', async () => {
    const again = path.join(dir, 'b.pcap');
    const other = path.join(dir, 'c.pcap');
    await generateToPcap({ ...opts, out: again });
    await generateToPcap({ ...opts, seed: opts.seed + 1, out: other });
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
    expect(readFileSync(other).equals(readFileSync(file))).toBe(false);
  });
});

describe.skipIf(!haveTshark)('generated capture, as Wireshark reads it', () => {
  it('has no malformed packets and no expert warnings or errors', () => {
    expect(tshark(['-r', file, '-T', 'fields', '-e', 'frame.number'])).toHaveLength(summary.packets);
    expect(tshark(['-r', file, '-Y', '_ws.malformed'])).toEqual([]);
    expect(tshark(['-r', file, '-Y', '_ws.expert.severity >= "warning"'])).toEqual([]);
  });

  it('has correct IPv4 and SCTP CRC32c checksums', () => {
    const sctp = tshark(['-r', file, '-o', 'sctp.checksum:CRC-32C', '-Y', 'sctp', '-T', 'fields', '-e', 'sctp.checksum.status']);
    expect(sctp.length).toBe(summary.byProtocol.map + summary.byProtocol.isup);
    expect(new Set(sctp)).toEqual(new Set(['1']));
    const ip = tshark(['-r', file, '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.checksum.status']);
    expect(new Set(ip)).toEqual(new Set(['1']));
  });

  it('decodes to the MAP invokes, results and errors the summary counts', () => {
    const got = counts(fields('gsm_map', 'gsm_map.old.Component', 'gsm_old.localValue').map(([, comp, value]) => `${comp}:${value}`));
    const want: Record<string, number> = {};
    for (const [message, n] of Object.entries(summary.byMessage.map)) {
      const [op, kind, error] = message.split('.') as [MapOperation, string, MapError | undefined];
      // For ReturnError the localValue is the error code, not the opcode.
      const key = kind === 'invoke' ? `1:${MAP_OPERATIONS[op].opcode}` : kind === 'result' ? `2:${MAP_OPERATIONS[op].opcode}` : `3:${MAP_ERRORS[error!]}`;
      want[key] = (want[key] ?? 0) + n;
    }
    expect(got).toEqual(want);
  });

  it('decodes to the ISUP messages the summary counts', () => {
    const got = counts(fields('isup', 'isup.message_type').map(([, t]) => t!));
    const want = Object.fromEntries(Object.entries(summary.byMessage.isup).map(([m, n]) => [String(ISUP_TYPES[m as IsupMessage]), n]));
    expect(got).toEqual(want);
  });

  it('decodes to the SIP requests and responses the summary counts', () => {
    const got = counts(
      fields('sip', 'sip.Method', 'sip.Status-Code', 'sip.CSeq.method').map(([, method, code, cseq]) => (method ? method : `${code} ${cseq}`)),
    );
    expect(got).toEqual(summary.byMessage.sip);
  });

  it('carries each subscriber’s own IMSI and MSISDN, and only existing ones', () => {
    const rows = fields('gsm_map || isup', 'e212.imsi', 'e164.msisdn');
    const imsis = new Set<string>();
    const msisdns = new Set<string>();
    const population = new Set(Array.from({ length: opts.subscribers }, (_, i) => subscriberIdentity(i, opts).msisdn));
    let checked = 0;
    for (const [frameNo, imsi, msisdn] of rows) {
      const p = packets[Number(frameNo) - 1]!;
      const sub = p.meta.subscriber;
      const numbers = msisdn ? msisdn.split(',') : [];
      if (imsi) {
        expect(sub, `frame ${frameNo}`).toBeGreaterThanOrEqual(0);
        expect(
          imsi.split(',').every((x) => x === subscriberIdentity(sub, opts).imsi),
          `frame ${frameNo}`,
        ).toBe(true);
        imsis.add(imsi.split(',')[0]!);
        checked++;
      }
      // Messages addressed by MSISDN name the subscriber they are about.
      if (/^(sendRoutingInfo|sendRoutingInfoForSM|insertSubscriberData|anyTimeInterrogation|mo-ForwardSM)\.invoke$/.test(p.meta.message)) {
        if (sub >= 0) expect(numbers, `frame ${frameNo}`).toContain(subscriberIdentity(sub, opts).msisdn);
        else
          expect(
            numbers.some((n) => population.has(n)),
            `frame ${frameNo} names an unknown number`,
          ).toBe(false);
      }
      for (const n of numbers) if (/^9997\d{9}$/.test(n) && !n.startsWith('99979')) msisdns.add(n);
    }
    expect(checked).toBeGreaterThan(100);
    for (const n of msisdns) expect(population.has(n), n).toBe(true);
    // Every subscriber whose registration traffic appears is seen by IMSI too.
    const registered = new Set(packets.filter((p) => p.meta.message === 'updateLocation.invoke').map((p) => subscriberIdentity(p.meta.subscriber, opts).imsi));
    for (const i of registered) expect(imsis.has(i), i).toBe(true);
  });

  it('runs every ISUP call on its own circuit, IAM through RLC', () => {
    const state = new Map<string, string>();
    let calls = 0;
    for (const [frameNo, opc, dpc, cic, type] of fields('isup', 'm3ua.protocol_data_opc', 'm3ua.protocol_data_dpc', 'isup.cic', 'isup.message_type')) {
      const key = `${Math.min(Number(opc), Number(dpc))}-${Math.max(Number(opc), Number(dpc))}-${cic}`;
      const was = state.get(key) ?? 'idle';
      const at = `frame ${frameNo} ${key}`;
      if (type === '1') {
        expect(was, at).toBe('idle');
        calls++;
      } else if (type === '16') expect(was, at).toBe('12');
      else expect(['1', '6', '44', '9'], at).toContain(was);
      state.set(key, type === '16' ? 'idle' : type!);
    }
    expect(calls).toBe(summary.byMessage.isup.IAM);
  });

  it('cancels the old VLR when a subscriber moves', () => {
    const vlrOf = new Map<string, string>();
    let cancels = 0;
    for (const [frameNo, opc, dpc, comp, op, imsi] of fields(
      'gsm_map',
      'm3ua.protocol_data_opc',
      'm3ua.protocol_data_dpc',
      'gsm_map.old.Component',
      'gsm_old.localValue',
      'e212.imsi',
    )) {
      if (comp !== '1') continue;
      if (op === '3') {
        // cancelLocation follows the updateLocation from the new VLR and goes to the previous one.
        expect(vlrOf.has(imsi!), `frame ${frameNo}`).toBe(true);
        expect(dpc, `frame ${frameNo}`).not.toBe(vlrOf.get(imsi!));
        cancels++;
      }
      if (op === '2') vlrOf.set(imsi!, opc!);
    }
    expect(cancels).toBe(summary.byMessage.map['cancelLocation.invoke']);
    expect(cancels).toBeGreaterThan(0);
  });

  it('carries the SIP address of record of the handset sending', () => {
    const rows = fields('sip.Method && !(sip.Method == "NOTIFY")', 'sip.from.addr');
    expect(rows.length).toBeGreaterThan(100);
    for (const [frameNo, from] of rows) {
      const p = packets[Number(frameNo) - 1]!;
      expect(from, `frame ${frameNo}`).toBe(subscriberIdentity(p.meta.subscriber, opts).aor);
    }
  });

  it('keeps nanosecond timestamps in a nanosecond pcap', async () => {
    const ns = path.join(dir, 'ns.pcap');
    await generateToPcap({ ...opts, durationSeconds: 60, out: ns, nanos: true });
    const times = tshark(['-r', ns, '-T', 'fields', '-e', 'frame.time_epoch', '-c', '20']);
    const want = [...generatePackets({ ...opts, durationSeconds: 60 })].slice(0, 20).map((p) => {
      const s = p.timeNs.toString();
      return `${s.slice(0, -9)}.${s.slice(-9)}`;
    });
    expect(times).toEqual(want);
  });
});

describe.skipIf(!haveTshark)('location updates inside one TCAP dialogue (ulContinueShare)', () => {
  it('runs Begin(UL) → Continue(ISD, AARE) → Continue(ISD result) → End(UL result) on matching transaction ids', async () => {
    const f = path.join(dir, 'continue.pcap');
    const s = await generateToPcap({ ...opts, durationSeconds: 300, mix: { ...opts.mix, ulContinueShare: 1 }, out: f });
    expect(tshark(['-r', f, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'])).toEqual([]);
    const rows = tshark([
      '-r',
      f,
      '-Y',
      'gsm_map',
      '-T',
      'fields',
      '-e',
      'tcap.begin_element',
      '-e',
      'tcap.continue_element',
      '-e',
      'tcap.end_element',
      '-e',
      'tcap.otid',
      '-e',
      'tcap.dtid',
      '-e',
      'gsm_map.old.Component',
      '-e',
      'gsm_old.localValue',
      '-e',
      'tcap.dialogueResponse_element',
    ]).map((l) => l.split('\t'));
    const begun = new Map<string, string>(); // otid → opcode of the Begin
    const continued = new Set<string>(); // otids of HLR Continues
    let uls = 0;
    for (const [begin, cont, end, otid, dtid, comp, op, aare] of rows) {
      if (begin) begun.set(otid!, op!);
      else if (cont && comp === '1') {
        expect([op, begun.get(dtid!), aare]).toEqual(['7', '2', '1']);
        continued.add(otid!);
      } else if (cont) {
        expect([comp, op, aare]).toEqual(['2', '7', '']);
        expect(continued.has(dtid!)).toBe(true);
        expect(begun.get(otid!)).toBe('2');
      } else if (end && op === '2' && comp === '2') {
        expect(begun.get(dtid!)).toBe('2');
        expect(aare).toBe('');
        uls++;
      }
    }
    expect(uls).toBe(s.byMessage.map['updateLocation.result']);
    expect(continued.size).toBe(s.byMessage.map['insertSubscriberData.invoke']);
    expect(uls).toBeGreaterThan(10);
  });
});

describe.skipIf(!haveTshark)('other numbering plans', () => {
  it.each([
    { countryCode: '1', mcc: '310', mnc: '260' },
    { countryCode: '44', mcc: '234', mnc: '15' },
  ])('stays well-formed and names the right subscribers with %o', async (plan) => {
    const o = { ...opts, ...plan, durationSeconds: 240, seed: 77 };
    const f = path.join(dir, `plan-${plan.countryCode}.pcap`);
    await generateToPcap({ ...o, out: f });
    const ps = [...generatePackets(o)];
    expect(tshark(['-r', f, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'])).toEqual([]);
    const rows = tshark(['-r', f, '-Y', 'e212.imsi', '-T', 'fields', '-e', 'frame.number', '-e', 'e212.imsi']).map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(20);
    for (const [n, imsi] of rows) expect(imsi!.split(',')[0]).toBe(subscriberIdentity(ps[Number(n) - 1]!.meta.subscriber, o).imsi);
    const called = tshark(['-r', f, '-Y', 'isup.message_type == 1', '-T', 'fields', '-e', 'isup.called', '-e', 'isup.calling']);
    for (const line of called) for (const d of line.split('\t')) expect(d.startsWith(plan.countryCode)).toBe(true);
  });
});
