// Test-only: transport payloads of a capture, extracted by tshark, until the
// project's own pcap/IP/TCP/SCTP layers land. Payload bytes stay in memory;
// nothing from the captures is written into the repository.
import { tally, tshark } from './captures.ts';

export interface Datagram {
  frame: number;
  timeNs: bigint;
  payload: Buffer;
}

function timeNs(epoch: string): bigint {
  const [s, f = ''] = epoch.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
}

/** UDP payloads (SIP dissector off, so tshark does not reinterpret them). */
export function udpPayloads(file: string, displayFilter = 'udp'): Datagram[] {
  return tshark(['-r', file, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'udp.payload'])
    .map((l) => l.split('\t'))
    .filter((f) => f[2])
    .map((f) => ({ frame: Number(f[0]), timeNs: timeNs(f[1]!), payload: Buffer.from(f[2]!, 'hex') }));
}

/** SCTP DATA chunk payloads (several chunks per frame come comma-separated). */
export function sctpPayloads(file: string): Datagram[] {
  const out: Datagram[] = [];
  for (const l of tshark([
    '-r',
    file,
    '--disable-protocol',
    'sip',
    '-Y',
    'sctp',
    '-T',
    'fields',
    '-e',
    'frame.number',
    '-e',
    'frame.time_epoch',
    '-e',
    'data.data',
  ])) {
    const f = l.split('\t');
    if (!f[2]) continue;
    for (const hex of f[2].split(',')) out.push({ frame: Number(f[0]), timeNs: timeNs(f[1]!), payload: Buffer.from(hex, 'hex') });
  }
  return out;
}

export interface StreamChunk {
  frame: number;
  timeNs: bigint;
  /** `${stream}:${srcport}` — one direction of one TCP connection */
  flow: string;
  payload: Buffer;
}

/**
 * TCP payload chunks in capture order with retransmitted bytes removed per
 * direction (what the TCP reassembler will hand us: contiguous in-order data).
 */
export function tcpChunks(file: string): StreamChunk[] {
  const next = new Map<string, number>();
  const out: StreamChunk[] = [];
  const lines = tshark([
    '-r',
    file,
    '-Y',
    'tcp.len > 0',
    '-T',
    'fields',
    '-e',
    'frame.number',
    '-e',
    'frame.time_epoch',
    '-e',
    'tcp.stream',
    '-e',
    'tcp.srcport',
    '-e',
    'tcp.seq',
    '-e',
    'tcp.payload',
  ]);
  for (const l of lines) {
    const [frame, epoch, stream, sport, seqStr, hex] = l.split('\t');
    if (!hex) continue;
    const flow = `${stream}:${sport}`;
    const whole = Buffer.from(hex, 'hex');
    const seq = Number(seqStr);
    const expected = next.get(flow) ?? seq;
    if (seq + whole.length <= expected) continue; // pure retransmission
    const payload = seq < expected ? whole.subarray(expected - seq) : whole;
    next.set(flow, seq + whole.length);
    out.push({ frame: Number(frame), timeNs: timeNs(epoch!), flow, payload });
  }
  return out;
}

/** tshark's view of SIP in a capture: one row per SIP message (methods/status split per frame). */
export function tsharkSip(file: string, filter: string, fields: string[]): string[][] {
  const rows: string[][] = [];
  for (const l of tshark(['-r', file, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])])) {
    rows.push(l.split('\t'));
  }
  return rows;
}

/** Counts of 'METHOD' or 'status' labels over rows with aggregated (|) occurrences. */
export function countLabels(values: string[]): Record<string, number> {
  return tally(values.flatMap((v) => v.split('|')).filter((x) => x.length > 0));
}

export { prng, mutate } from './fuzz.ts';
