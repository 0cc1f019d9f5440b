// Locates the third-party captures kept beside the project (never copied in:
// several carry copyleft licences). Tests that need them skip, saying why,
// when the folder is absent, so a clone of the project alone still runs green.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `../shared/captures` from the project root, or $PRESENCE_CAPTURES. */
export const capturesDir = process.env.PRESENCE_CAPTURES ?? path.resolve(repoRoot, '../shared/captures');

export const haveCaptures = existsSync(capturesDir);
export const noCapturesReason = `captures folder ${capturesDir} is absent (set PRESENCE_CAPTURES to point at shared/captures)`;

/** Absolute path of a capture, e.g. capture('ss7/map-lu-ati-m3ua.pcap'). */
export function capture(relative: string): string {
  return path.join(capturesDir, relative);
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tshark is the oracle for decoder tests; they skip with a message without it. */
export const haveTshark = which('tshark');
export const noTsharkReason = 'tshark is not installed (apt-get install tshark)';

/** Runs tshark and returns its stdout lines (no empty lines). */
export function tshark(args: string[]): string[] {
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0);
}

/** Occurrences of each value (tshark rows, our decoded labels). */
export function tally(values: Iterable<string>): Record<string, number> {
  const t: Record<string, number> = {};
  for (const v of values) t[v] = (t[v] ?? 0) + 1;
  return t;
}

/** Every shared capture that carries SIP (by transport: UDP, TCP, SCTP, IPv6, WebSocket; and the SIPp load). */
export const SIP_CAPTURES = [
  'sip/register-invite-udp.pcap',
  'sip/asterisk-subscribe-publish.pcapng',
  'sip/register-tcp-retrans-sll.pcap',
  'sip/sip-tcp.pcap',
  'sip/invite-sctp.pcap',
  'sip/sip-ipv6-udp.pcap',
  'sip/call-with-rtp.pcap',
  'sip/sip-websocket.pcap',
  'bench/sipp-register-invite-load.pcapng',
] as const;
