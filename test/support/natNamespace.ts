// A handset behind NAT, made by the test itself: a network namespace joined
// to the host by a veth pair, whose nftables rules masquerade what it sends
// (source ports remapped to 40000-40999, so only rport/received find it again)
// and drop every packet that does not belong to a flow it opened — UDP from
// another address or port, TCP SYNs (silently, as a NAT does: no reset). A
// program runs inside with `ip netns exec`; everything is removed on close.
// With openUdp, UDP gets in from anywhere and only TCP is dropped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface NatNamespace {
  /** The host's end of the veth pair: bind the front end and the sink here. */
  readonly hostIp: string;
  /** The handset's address inside the namespace (unreachable except through its own flows). */
  readonly innerIp: string;
  /** Runs `node --input-type=module -e script args…` inside the namespace. */
  node(script: string, args: string[]): ChildProcess;
  close(): void;
}

const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(input ? { input } : {}) }).toString();

/** Why the namespace cannot be made here (not root, no ip/nft), or undefined when it can. */
export function natNamespaceUnavailable(): string | undefined {
  try {
    if (process.getuid?.() !== 0) return 'needs root for ip netns';
    sh('ip', ['-V']);
    sh('nft', ['--version']);
    return undefined;
  } catch {
    return 'needs iproute2 and nftables (apt-get install -y nftables)';
  }
}

interface NatOptions {
  /**
   * Let in UDP from anywhere (a handset with a public UDP port), still
   * dropping unsolicited TCP silently: what makes a TCP connect time out.
   */
  readonly openUdp?: boolean;
}

export function natNamespace(tag: string, o: NatOptions = {}): NatNamespace {
  const id = `${tag}${process.pid % 100000}`.slice(0, 10);
  const ns = `nat-${id}`;
  const outer = `nh${id}`;
  const inner = `nw${id}`;
  // A /30 of 10.x.y.0/16 chosen from the pid, skipping subnets already on the host.
  const used = sh('ip', ['-4', '-o', 'addr']);
  let n = process.pid % 16000;
  while (used.includes(`10.${100 + (n >> 8)}.${n & 0xff}.`)) n = (n + 1) % 16000;
  const net = `10.${100 + (n >> 8)}.${n & 0xff}`;
  const hostIp = `${net}.1`;
  const innerIp = `${net}.2`;
  const children: ChildProcess[] = [];
  const close = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    try {
      sh('ip', ['link', 'del', outer]);
    } catch {
      // already gone with the namespace
    }
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // never made
    }
  };
  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    sh('ip', ['link', 'set', inner, 'netns', ns]);
    sh('ip', ['addr', 'add', `${hostIp}/30`, 'dev', outer]);
    sh('ip', ['link', 'set', outer, 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${innerIp}/30`, 'dev', inner]);
    sh('ip', ['-n', ns, 'link', 'set', inner, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh(
      'ip',
      ['netns', 'exec', ns, 'nft', '-f', '-'],
      `table inet nat_handset {
  chain input { type filter hook input priority 0; policy drop; iifname "lo" accept; ct state established,related accept;${o.openUdp ? ' meta l4proto udp accept;' : ''} }
  chain postrouting { type nat hook postrouting priority 100; oifname "${inner}" meta l4proto { udp, tcp } masquerade to :40000-40999; }
}
`,
    );
  } catch (err) {
    close();
    throw err;
  }
  return {
    hostIp,
    innerIp,
    node(script, args) {
      const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    close,
  };
}
