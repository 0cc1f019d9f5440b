// A DNS server on loopback answering NAPTR and SRV questions from a table, for
// tests of RFC 3263 server location through node:dns's real resolver (the wire
// format of RFC 1035, RFC 2782 and RFC 3403; no compression in answers). Names
// not in the table get NXDOMAIN; a known name without the asked type, no answer.
import { createSocket, type Socket } from 'node:dgram';

export interface DnsZone {
  readonly naptr?: Record<string, Array<{ order: number; preference: number; flags: string; service: string; regexp?: string; replacement: string }>>;
  readonly srv?: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>;
}

export interface TestDnsServer {
  /** host:port for Resolver.setServers / PRESENCE_NOTIFY_DNS_SERVERS. */
  readonly address: string;
  /** Questions asked, as "TYPE name". */
  readonly asked: string[];
  close(): Promise<void>;
}

const TYPE = { SRV: 33, NAPTR: 35 } as const;

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

const charString = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'ascii')]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

function readName(b: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (b[i]! !== 0) {
    labels.push(b.subarray(i + 1, i + 1 + b[i]!).toString('ascii'));
    i += 1 + b[i]!;
  }
  return { name: labels.join('.'), end: i + 1 };
}

function answer(query: Buffer, zone: DnsZone, asked: string[]): Buffer {
  const id = query.subarray(0, 2);
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const key = name.toLowerCase();
  asked.push(`${qtype === TYPE.NAPTR ? 'NAPTR' : qtype === TYPE.SRV ? 'SRV' : qtype} ${key}`);
  const known = key in (zone.naptr ?? {}) || key in (zone.srv ?? {});
  const rdatas: Buffer[] = [];
  if (qtype === TYPE.NAPTR)
    for (const r of zone.naptr?.[key] ?? [])
      rdatas.push(
        Buffer.concat([u16(r.order), u16(r.preference), charString(r.flags), charString(r.service), charString(r.regexp ?? ''), encodeName(r.replacement)]),
      );
  if (qtype === TYPE.SRV)
    for (const r of zone.srv?.[key] ?? []) rdatas.push(Buffer.concat([u16(r.priority), u16(r.weight), u16(r.port), encodeName(r.target)]));
  const flags = 0x8400 | (known ? 0 : 3); // response, authoritative; NXDOMAIN for names not in the zone
  const header = Buffer.concat([id, u16(flags), u16(1), u16(rdatas.length), u16(0), u16(0)]);
  const records = rdatas.map((rd) => Buffer.concat([encodeName(name), u16(qtype), u16(1), Buffer.from([0, 0, 0, 60]), u16(rd.length), rd]));
  return Buffer.concat([header, question, ...records]);
}

export async function startDnsServer(zone: DnsZone, host = '127.0.0.1'): Promise<TestDnsServer> {
  const socket: Socket = createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (q, peer) => {
    try {
      socket.send(answer(q, zone, asked), peer.port, peer.address);
    } catch {
      // A query this small server cannot read goes unanswered: the resolver times out, as with a broken server.
    }
  });
  await new Promise<void>((r) => socket.bind(0, host, r));
  return {
    address: `${host}:${socket.address().port}`,
    asked,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}
