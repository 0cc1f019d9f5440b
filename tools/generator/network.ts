// The simulated core network: which signalling nodes exist, their IPv4
// addresses, SS7 point codes and global titles. Everything is derived from
// the country code so the numbers look like one operator's plan. Kept as a
// data table so the scenario and the tests read the same truth.

export type NodeRole = 'hlr' | 'msc' | 'sgsn' | 'gmsc' | 'smsc' | 'scf' | 'pcscf' | 'stp';

export interface NetNode {
  /** Small dense index (SCTP association state is an array by it). */
  id: number;
  role: NodeRole;
  name: string;
  ip: number;
  /** ITU 14-bit signalling point code. */
  pc: number;
  /** E.164 global title (also the node's MAP ISDN address). */
  gt: string;
}

/** SCCP subsystem numbers (Q.713 annex / 3GPP TS 23.003 §8.1). */
export const SSN = { hlr: 6, vlr: 7, msc: 8, scf: 147, sgsn: 149 } as const;

export interface Network {
  hlr: NetNode;
  /** Combined MSC/VLRs; a subscriber's location is an index here. */
  mscs: NetNode[];
  sgsn: NetNode;
  /** Gateway MSCs towards the PSTN (each MSC has an ISUP trunk to each). */
  gmscs: NetNode[];
  smsc: NetNode;
  scf: NetNode;
  pcscf: NetNode;
  /**
   * Two signalling transfer points (mated pair) that relay MAP by global title
   * translation: they have point codes but no global title of their own.
   */
  stps: [NetNode, NetNode];
  /** All nodes by id. */
  nodes: NetNode[];
  /** VLR number of MSC k (VLR and MSC share a box but have distinct numbers). */
  vlrNumber(k: number): string;
  /** SIP domain of the IMS. */
  domain: string;
}

const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** SCTP state is kept in arrays indexed by node id pairs. */
export const MAX_NODES = 128;

export function buildNetwork(countryCode: string, mscCount = 4, gmscCount = 1): Network {
  if (mscCount + gmscCount + 8 > MAX_NODES) throw new Error(`at most ${MAX_NODES - 8} MSCs and gateway MSCs together`);
  const nodes: NetNode[] = [];
  const add = (role: NodeRole, name: string, ip: number, pc: number, gt: string): NetNode => {
    const n: NetNode = { id: nodes.length, role, name, ip, pc, gt };
    nodes.push(n);
    return n;
  };
  const hlr = add('hlr', 'hlr1', ip4(10, 0, 0, 10), 100, `${countryCode}1000001`);
  const mscs: NetNode[] = [];
  const two = (k: number): string => String(k + 1).padStart(2, '0');
  for (let k = 0; k < mscCount; k++) mscs.push(add('msc', `msc${k + 1}`, ip4(10, 0, 1, 10 + k), 200 + k, `${countryCode}2000${two(k)}`));
  const sgsn = add('sgsn', 'sgsn1', ip4(10, 0, 2, 10), 300, `${countryCode}3000001`);
  const gmscs: NetNode[] = [];
  for (let g = 0; g < gmscCount; g++) gmscs.push(add('gmsc', `gmsc${g + 1}`, ip4(10, 0, 3, 10 + g), 400 + g, `${countryCode}4000${two(g)}`));
  const smsc = add('smsc', 'smsc1', ip4(10, 0, 4, 10), 500, `${countryCode}5000001`);
  const scf = add('scf', 'scf1', ip4(10, 0, 5, 10), 600, `${countryCode}6000001`);
  const pcscf = add('pcscf', 'pcscf1', ip4(10, 1, 0, 10), 0, '');
  // Added last, so every other node keeps its id (and the fixtures their bytes).
  const stps: [NetNode, NetNode] = [add('stp', 'stp1', ip4(10, 0, 6, 10), 700, ''), add('stp', 'stp2', ip4(10, 0, 6, 11), 701, '')];
  return {
    hlr,
    mscs,
    sgsn,
    gmscs,
    smsc,
    scf,
    pcscf,
    stps,
    nodes,
    vlrNumber: (k) => `${countryCode}2100${two(k)}`,
    domain: 'ims.example.net',
  };
}

/** IPv4 address of subscriber i's IMS handset (10.64.0.0 upward, wraps past 10.255). */
export function ueIp(index: number): number {
  return (ip4(10, 64, 0, 0) + (index % 12_582_912)) >>> 0;
}

export function ipString(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}
