// The small captures committed under test/fixtures: one seeded scenario,
// written as one pcap per protocol so each decoder's tests read only what
// they decode. The files are the generator's own frames, byte for byte, so a
// fresh clone tests every decoder without the third-party captures, and the
// generator's event log (each packet's meta) says what each file holds.
import type { Protocol } from './encoder.ts';
import { generatePackets } from './generate.ts';
import type { GenerateOptions, GeneratedPacket } from './generate.ts';
import { LINKTYPE } from '../../protocols/decode/link/linkTypes.ts';
import { PcapWriter } from '../../protocols/decode/pcap/writePcap.ts';

/**
 * Eight subscribers for six simulated minutes, far busier than the defaults,
 * so every MAP operation (with each error), every ISUP message and every SIP
 * method appears while each file stays in the tens of KB. The seed was picked
 * for that coverage. Every option is spelled out, so a change of a default
 * does not silently change the fixtures.
 */
export const FIXTURE_SCENARIO: GenerateOptions = {
  subscribers: 8,
  durationSeconds: 360,
  seed: 11,
  countryCode: '999',
  mcc: '001',
  mnc: '01',
  startTime: Date.UTC(2026, 0, 1) / 1000,
  mix: {
    powerCycleSeconds: 900,
    mobilitySeconds: 300,
    periodicLuSeconds: 600,
    mtCallsPerHour: 12,
    moCallsPerHour: 12,
    mtSmsPerHour: 12,
    moSmsPerHour: 12,
    atiPerHour: 12,
    sipCallsPerHour: 12,
    publishPerHour: 12,
    subscribePerHour: 12,
    messagePerHour: 12,
    unknownShare: 0.1,
    // Half the location updates carry ISD inside the UL dialogue (TC-CONTINUE).
    ulContinueShare: 0.5,
  },
};

export interface Fixture {
  /** File name under test/fixtures. */
  file: string;
  /** The generator's packets of this protocol, in order, are the file's records. */
  protocol: Protocol;
  /** The layers in each frame, outermost first. */
  layers: string;
}

export const FIXTURES: readonly Fixture[] = [
  { file: 'map-m3ua.pcap', protocol: 'map', layers: 'Ethernet, IPv4, SCTP (one DATA chunk), M3UA DATA, SCCP UDT, TCAP, MAP' },
  { file: 'isup-m3ua.pcap', protocol: 'isup', layers: 'Ethernet, IPv4, SCTP (one DATA chunk), M3UA DATA, ISUP' },
  { file: 'sip-udp.pcap', protocol: 'sip', layers: 'Ethernet, IPv4, UDP, SIP (PIDF bodies in PUBLISH and NOTIFY)' },
];

export function fixture(file: string): Fixture {
  const f = FIXTURES.find((x) => x.file === file);
  if (!f) throw new Error(`no fixture ${file}`);
  return f;
}

/** The packets a fixture holds, with the generator's meta (message, subscriber). */
export function fixturePackets(f: Fixture): GeneratedPacket[] {
  return [...generatePackets(FIXTURE_SCENARIO)].filter((p) => p.meta.protocol === f.protocol);
}

/** Writes a fixture (microsecond pcap, as `presence generate --out` writes); returns its packet count. */
export function writeFixture(f: Fixture, out: string): number {
  const writer = new PcapWriter(out, { linkType: LINKTYPE.ethernet, nanosecond: false, snapLength: 65535 });
  try {
    for (const p of fixturePackets(f)) writer.writeNs(p.timeNs, p.frame);
  } finally {
    writer.close();
  }
  return writer.packets;
}
