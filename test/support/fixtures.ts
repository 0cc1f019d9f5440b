// The generator-written captures under test/fixtures, and what each holds
// according to the generator (its event log): decoder tests that run on every
// clone, with or without the shared captures and tshark.
import path from 'node:path';
import { FIXTURES, FIXTURE_SCENARIO, fixture, fixturePackets } from '../../tools/generator/fixtures.ts';
import { subscriberIdentity } from '../../tools/generator/generate.ts';
import type { GeneratedPacket, SubscriberIdentity } from '../../tools/generator/generate.ts';
import { resolveMix } from '../../tools/generator/mix.ts';
import { buildNetwork } from '../../tools/generator/network.ts';
import type { Network } from '../../tools/generator/network.ts';
import { haveTshark, noTsharkReason, repoRoot } from './captures.ts';

export { FIXTURE_SCENARIO };

export const MAP_FIXTURE = 'map-m3ua.pcap';
export const ISUP_FIXTURE = 'isup-m3ua.pcap';
export const SIP_FIXTURE = 'sip-udp.pcap';
/** Every fixture's file name. */
export const FIXTURE_FILES: readonly string[] = FIXTURES.map((f) => f.file);

/** Absolute path of a fixture, e.g. fixturePath(MAP_FIXTURE). */
export function fixturePath(file: string): string {
  return path.join(repoRoot, 'test/fixtures', file);
}

const logs = new Map<string, GeneratedPacket[]>();

/** The fixture's records as the generator wrote them (frame, time, message, subscriber), one per pcap record. */
export function fixtureLog(file: string): GeneratedPacket[] {
  let log = logs.get(file);
  if (!log) logs.set(file, (log = fixturePackets(fixture(file))));
  return log;
}

/** Suffix for suite titles that need tshark only (the fixtures are always there). */
export const tsharkNote = haveTshark ? '' : ` (skipped: ${noTsharkReason})`;

/** The generator's network for the fixture scenario: point codes, global titles, IPs. */
export function fixtureNetwork(): Network {
  const mix = resolveMix(FIXTURE_SCENARIO.mix, FIXTURE_SCENARIO.subscribers);
  return buildNetwork(FIXTURE_SCENARIO.countryCode ?? '999', mix.mscCount, mix.gmscCount);
}

/** IMSI, MSISDN and AoR of a subscriber in the fixture scenario. */
export function fixtureSubscriber(index: number): SubscriberIdentity {
  return subscriberIdentity(index, FIXTURE_SCENARIO);
}
