// The machine's UDP receive-buffer drops (Linux /proc/net/snmp RcvbufErrors):
// datagrams the kernel dropped because a socket's buffer was full — anyone's
// socket, the benchmark's own clients included. A benchmark prints the change
// over a run so a reader can tell a system's slowness from a harness that lost
// packets (each drop costs a T1 retransmission that looks like the system's).
import { readFileSync } from 'node:fs';

export function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const head = (lines[0] ?? '').split(/\s+/);
  const vals = (lines[1] ?? '').split(/\s+/);
  return Number(vals[head.indexOf('RcvbufErrors')] ?? NaN);
}
