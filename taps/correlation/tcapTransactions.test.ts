// TCAP dialogue correlation on the real MAP captures and on hand-made
// message sequences (timeouts, bounds, transaction id reuse).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturesNote } from '../../test/support/tsharkFields.ts';
import { capture, haveCaptures } from '../../test/support/captures.ts';
import { sctpUserMessages } from '../../test/support/sctpUserMessages.ts';
import { Ss7Dissector, type Ss7Message } from '../../protocols/decode/ss7Dissector.ts';
import type { MapComponent } from '../../protocols/decode/map/map.ts';
import { TcapTransactions, type CorrelatedSs7Message } from './tcapTransactions.ts';
import { FIXTURE_SCENARIO, MAP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, fixtureSubscriber } from '../../test/support/fixtures.ts';
import { generatePackets, generateToPcap } from '../../tools/generator/generate.ts';

function run(rel: string): CorrelatedSs7Message[] {
  const d = new Ss7Dissector();
  const tx = new TcapTransactions();
  return sctpUserMessages(capture(rel)).flatMap((u) => d.decode(u.payload, u.ppid, u).map((m) => tx.observe(m)));
}

describe.skipIf(!haveCaptures)(`TcapTransactions on captures${capturesNote}`, () => {
  it('map-location-update: results without opCode get insertSubscriberData; every component gets the IMSI of the Begin', () => {
    const out = run('ss7/map-location-update-m3ua.pcap');
    expect(out.map((m) => [m.frame, m.map!.kind, m.map!.operation])).toEqual([
      [1, 'invoke', 'updateLocation'],
      [2, 'invoke', 'insertSubscriberData'],
      [3, 'result', 'insertSubscriberData'],
      [4, 'result', 'updateLocation'],
      [5, 'invoke', 'updateLocation'],
      [6, 'invoke', 'insertSubscriberData'],
      [7, 'result', 'insertSubscriberData'],
      [8, 'result', 'updateLocation'],
    ]);
    expect(out.slice(0, 4).map((m) => m.dialogue!.imsi)).toEqual(Array(4).fill('001011356567851'));
    expect(out.slice(4).map((m) => m.dialogue!.imsi)).toEqual(Array(4).fill('001011356567853'));
    // The ISD invoke's MSISDN becomes part of the dialogue for the later components.
    expect(out[3]!.dialogue!.msisdn!.digits).toBe('19786148973');
    expect(out[3]!.dialogue!.appContext).toBe('networkLocUpContext-v3');
  });

  it('map-lu-ati: errors tied to updateLocation, ATI result to the MSISDN asked for; the UDTS copy does not disturb state', () => {
    const out = run('ss7/map-lu-ati-m3ua.pcap');
    const errors = out.filter((m) => m.map!.kind === 'error');
    expect(errors.map((m) => [m.dialogue!.invokeOperation, m.dialogue!.imsi, m.map!.error])).toEqual([
      ['updateLocation', '405037027451342', 'roamingNotAllowed'],
      ['updateLocation', '405037027451347', 'roamingNotAllowed'],
    ]);
    const ati = out.filter((m) => m.map!.opCode === 71 && m.map!.kind === 'result');
    expect(ati).toHaveLength(2);
    expect(ati[0]!.dialogue!.msisdn!.digits).toBe('918793714126');
    expect(ati[0]!.dialogue!.invokeOperation).toBe('anyTimeInterrogation');
    // The returned copy arrives after the End closed the dialogue: not matched, not an error.
    expect(ati[1]!.sccp!.returnCause).toBeDefined();
    const sendId = out.filter((m) => m.map!.opCode === 55 && m.map!.kind === 'result');
    expect(sendId.map((m) => m.dialogue!.imsi)).toEqual(['405037027451342', '405037027451347']);
  });
});

describe('TcapTransactions on the generated MAP fixture', () => {
  const log = fixtureLog(MAP_FIXTURE);
  const d = new Ss7Dissector();
  const tx = new TcapTransactions();
  const out = sctpUserMessages(fixturePath(MAP_FIXTURE)).flatMap((u) => d.decode(u.payload, u.ppid, u).map((m) => tx.observe(m)));

  // Dialogues in which both sides invoke: updateLocation from the VLR, then
  // insertSubscriberData from the HLR inside it (TC-CONTINUE), both with invoke id 1.
  const bothInvoke = new Set(out.filter((m) => m.tcap!.type === 'continue').flatMap((m) => [m.tcap!.otid!, m.tcap!.dtid!]));
  const answers = out.map((m, i) => ({ m, message: log[i]!.meta.message })).filter(({ message }) => !message.endsWith('.invoke'));
  const inBothInvoke = ({ m }: (typeof answers)[number]) => bothInvoke.has(m.tcap!.dtid ?? '') || bothInvoke.has(m.tcap!.otid ?? '');

  it('every result and error of a dialogue where one side invokes is tied to the operation the generator answered', () => {
    expect(out).toHaveLength(log.length);
    for (const m of out) expect(m.dialogue, `frame ${m.frame}`).toBeDefined();
    const plain = answers.filter((a) => !inBothInvoke(a));
    expect(plain.length).toBeGreaterThan(50);
    for (const { m, message } of plain) expect(m.dialogue!.invokeOperation, `frame ${m.frame} ${message}`).toBe(message.split('.')[0]);
  });

  // Found by this fixture: invoke ids belong to the side that invokes (Q.773),
  // so the HLR's insertSubscriberData (id 1) must not take the place of the
  // VLR's updateLocation (id 1): invokes are remembered per side.
  it('every result of a dialogue where both sides invoke with the same invoke id is tied to the operation it answers', () => {
    const mixed = answers.filter(inBothInvoke);
    expect(mixed.length).toBeGreaterThan(0);
    for (const { m, message } of mixed) expect(m.dialogue!.invokeOperation, `frame ${m.frame} ${message}`).toBe(message.split('.')[0]);
  });

  it("a dialogue's IMSI and MSISDN are its subscriber's, from whichever component carried them", () => {
    let withImsi = 0;
    out.forEach((m, i) => {
      const who = log[i]!.meta.subscriber;
      if (who < 0) return;
      const id = fixtureSubscriber(who);
      if (m.dialogue!.imsi !== undefined) {
        expect(m.dialogue!.imsi, `frame ${m.frame}`).toBe(id.imsi);
        withImsi++;
      }
      if (m.dialogue!.msisdn !== undefined) expect(m.dialogue!.msisdn.digits, `frame ${m.frame}`).toBe(id.msisdn);
    });
    expect(withImsi).toBeGreaterThan(log.length / 2);
  });

  it('closes every dialogue the generator finished', () => {
    // Left open: only dialogues whose answer falls after the six minutes.
    expect(tx.size).toBeLessThan(5);
  });
});

describe('TcapTransactions when answers come back through another STP (generated)', () => {
  // The fixture scenario with every own-dialogue answer routed by global
  // title through the other STP: the probe sees the invoke on the requester's
  // link to STP 1 and the answer on the responder's link to STP 2, so the
  // answer's DPC is not the Begin's OPC.
  const dir = mkdtempSync(path.join(tmpdir(), 'tcap-stp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const scenario = { ...FIXTURE_SCENARIO, mix: { ...FIXTURE_SCENARIO.mix, stpAnswerShare: 1 } };
  const [stp1, stp2] = fixtureNetwork().stps;
  const log = [...generatePackets(scenario)].filter((p) => p.meta.protocol === 'map');
  let out: CorrelatedSs7Message[] = [];
  const tx = new TcapTransactions();
  beforeAll(async () => {
    const file = path.join(dir, 'stp.pcap');
    await generateToPcap({ ...scenario, out: file });
    const d = new Ss7Dissector();
    out = sctpUserMessages(file).flatMap((u) =>
      d
        .decode(u.payload, u.ppid, u)
        .filter((m) => m.map)
        .map((m) => tx.observe(m)),
    );
  });

  it('every result and error of a Begin/End dialogue is tied to its invoke by transaction id and global titles', () => {
    expect(out).toHaveLength(log.length);
    const viaStp2 = out.map((m, i) => ({ m, message: log[i]!.meta.message })).filter(({ m }) => m.tcap!.type === 'end' && m.dpc === stp2.pc);
    expect(viaStp2.length).toBeGreaterThan(20);
    // The routes really differ: the Begins went to STP 1.
    expect(out.filter((m) => m.tcap!.type === 'begin' && m.dpc === stp1.pc).length).toBeGreaterThan(20);
    for (const { m, message } of viaStp2) {
      expect(m.dialogue?.invokeOperation, `frame ${m.frame} ${message}`).toBe(message.split('.')[0]);
      if (message.includes('.error.')) expect(m.map!.error, `frame ${m.frame}`).toBe(message.split('.')[2]);
    }
    expect(tx.stats.unmatched).toBe(0);
  });
});

// Hand-made messages: HLR at PC 2, VLR at PC 1.
let frame = 0;
function msg(opc: number, dpc: number, tcap: Ss7Message['tcap'], map?: Partial<MapComponent>, timeNs = 0n): Ss7Message {
  const m: Ss7Message = { protocol: map ? 'map' : 'tcap', frame: ++frame, timeNs, opc, dpc, si: 3, ni: 2, sls: 0, tcap };
  if (map) m.map = { kind: 'invoke', params: {}, ...map };
  return m;
}

describe('TcapTransactions hand-made', () => {
  it('two components of one End both see the dialogue; a later message does not', () => {
    const tx = new TcapTransactions();
    tx.observe(msg(1, 2, { type: 'begin', otid: 'aa', appContextOid: '0.4.0.0.1.0.1.3' }, { invokeId: 1, opCode: 2, params: { imsi: '001010000000001' } }));
    const f = ++frame;
    const a = tx.observe({ ...msg(2, 1, { type: 'end', dtid: 'aa' }, { kind: 'result', invokeId: 1 }), frame: f });
    const b = tx.observe({ ...msg(2, 1, { type: 'end', dtid: 'aa' }, { kind: 'error', invokeId: 1, errorCode: 34 }), frame: f });
    expect([a.map!.operation, b.dialogue!.invokeOperation, b.dialogue!.imsi]).toEqual(['updateLocation', 'updateLocation', '001010000000001']);
    const late = tx.observe(msg(2, 1, { type: 'end', dtid: 'aa' }, { kind: 'result', invokeId: 1 }));
    expect(late.dialogue).toBeUndefined();
    expect(tx.size).toBe(0);
  });

  it('the same otid from another point code is another dialogue; responder tid keyed by its own PC', () => {
    const tx = new TcapTransactions();
    tx.observe(msg(1, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 56, params: { imsi: '001010000000001' } }));
    tx.observe(msg(3, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 56, params: { imsi: '001010000000003' } }));
    const r1 = tx.observe(msg(2, 1, { type: 'continue', otid: '99', dtid: '01' }, { kind: 'result', invokeId: 1 }));
    const r3 = tx.observe(msg(2, 3, { type: 'end', dtid: '01' }, { kind: 'result', invokeId: 1 }));
    expect([r1.dialogue!.imsi, r3.dialogue!.imsi]).toEqual(['001010000000001', '001010000000003']);
    // VLR continues toward the HLR's tid 99 at PC 2.
    const c = tx.observe(msg(1, 2, { type: 'continue', otid: '01', dtid: '99' }, { invokeId: 2, opCode: 56 }));
    expect(c.dialogue!.imsi).toBe('001010000000001');
  });

  it('ties an End that took another STP to its Begin by transaction id and global titles, not point codes', () => {
    // VLR (GT 9992000001, PC 1) → STP 10 → HLR (GT 9991000001, PC 2); the End: HLR → STP 11 → VLR.
    const vlr = { route: 'gt' as const, ssn: 7, gt: { gti: 4, digits: '9992000001' } };
    const hlr = { route: 'gt' as const, ssn: 6, gt: { gti: 4, digits: '9991000001' } };
    const tx = new TcapTransactions();
    tx.observe({
      ...msg(1, 10, { type: 'begin', otid: '0a' }, { invokeId: 1, opCode: 2, params: { imsi: '001010000000001' } }),
      sccp: { type: 'UDT', called: hlr, calling: vlr },
    });
    const end = tx.observe({
      ...msg(2, 11, { type: 'end', dtid: '0a' }, { kind: 'error', invokeId: 1, errorCode: 8 }),
      sccp: { type: 'UDT', called: vlr, calling: hlr },
    });
    expect([end.dialogue?.invokeOperation, end.dialogue?.imsi]).toEqual(['updateLocation', '001010000000001']);
  });

  it('the same otid from another global title behind the same STP is another dialogue', () => {
    const hlr = { route: 'gt' as const, ssn: 6, gt: { gti: 4, digits: '9991000001' } };
    const vlrA = { route: 'gt' as const, ssn: 7, gt: { gti: 4, digits: '9992000001' } };
    const vlrB = { route: 'gt' as const, ssn: 7, gt: { gti: 4, digits: '9992000002' } };
    const tx = new TcapTransactions();
    // Both Begins relayed by STP 10 (the OPC after translation), with the same otid.
    tx.observe({
      ...msg(10, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 2, params: { imsi: '001010000000001' } }),
      sccp: { type: 'UDT', called: hlr, calling: vlrA },
    });
    tx.observe({
      ...msg(10, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 2, params: { imsi: '001010000000002' } }),
      sccp: { type: 'UDT', called: hlr, calling: vlrB },
    });
    const a = tx.observe({ ...msg(2, 11, { type: 'end', dtid: '01' }, { kind: 'result', invokeId: 1 }), sccp: { type: 'UDT', called: vlrA, calling: hlr } });
    const b = tx.observe({ ...msg(2, 11, { type: 'end', dtid: '01' }, { kind: 'result', invokeId: 1 }), sccp: { type: 'UDT', called: vlrB, calling: hlr } });
    expect([a.dialogue?.imsi, b.dialogue?.imsi]).toEqual(['001010000000001', '001010000000002']);
  });

  it('expires idle dialogues on message time and bounds their number', () => {
    const tx = new TcapTransactions({ timeoutNs: 100n, maxDialogues: 2 });
    tx.observe(msg(1, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 2 }, 0n));
    tx.observe(msg(1, 2, { type: 'begin', otid: '02' }, { invokeId: 1, opCode: 2 }, 50n));
    tx.observe(msg(1, 2, { type: 'begin', otid: '03' }, { invokeId: 1, opCode: 2 }, 60n)); // evicts 01
    expect(tx.stats.evicted).toBe(1);
    expect(tx.observe(msg(2, 1, { type: 'end', dtid: '01' }, { kind: 'result', invokeId: 1 }, 61n)).dialogue).toBeUndefined();
    expect(tx.observe(msg(2, 1, { type: 'end', dtid: '02' }, { kind: 'result', invokeId: 1 }, 151n)).dialogue).toBeUndefined(); // idle 101 ns
    expect(tx.stats.expired).toBe(1);
    expect(tx.observe(msg(2, 1, { type: 'end', dtid: '03' }, { kind: 'result', invokeId: 1 }, 152n)).map!.operation).toBe('updateLocation');
  });

  it('a reused otid starts a fresh dialogue', () => {
    const tx = new TcapTransactions();
    tx.observe(msg(1, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 2, params: { imsi: '001010000000001' } }));
    tx.observe(msg(1, 2, { type: 'begin', otid: '01' }, { invokeId: 1, opCode: 71 }));
    const r = tx.observe(msg(2, 1, { type: 'end', dtid: '01' }, { kind: 'result', invokeId: 1 }));
    expect(r.map!.operation).toBe('anyTimeInterrogation');
    expect(r.dialogue!.imsi).toBeUndefined();
  });
});
