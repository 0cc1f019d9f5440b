// `presence decode` on a capture whose record header claims 2^31 bytes: the
// frames before it are printed, the bad record is named (index and byte
// offset), and the command exits non-zero. The real CLI in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPcap } from '../../protocols/decode/pcap/writePcap.ts';
import { repoRoot } from '../../test/support/captures.ts';
import { ethernet, ipv4, udp } from '../../test/support/packetBuilder.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'presence-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sipFrame(n: number): Buffer {
  const sip = [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-dec-${n}`,
    `From: <sip:user${n}@example.com>;tag=f${n}`,
    `To: <sip:user${n}@example.com>`,
    `Call-ID: dec-${n}@192.0.2.10`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:u@192.0.2.10:5060>;expires=3600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return ethernet(0x0800, ipv4({ src: '192.0.2.10', dst: '198.51.100.5', protocol: 17 }, udp(5060, 5060, Buffer.from(sip))));
}

describe('presence decode', () => {
  it('prints the frames before a record claiming 2^31 bytes, names that record and exits non-zero', () => {
    const good = buildPcap(
      [1, 2].map((n) => ({ timeNs: 1_700_000_000_000_000_000n + BigInt(n) * 1_000_000n, data: sipFrame(n) })),
      { linkType: 1 },
    );
    const bad = Buffer.alloc(16 + 8);
    bad.writeUInt32LE(1_700_000_003, 0);
    bad.writeUInt32LE(2 ** 31, 8); // captured length
    bad.writeUInt32LE(2 ** 31, 12);
    const file = path.join(tmp, 'claims-2g.pcap');
    writeFileSync(file, Buffer.concat([good, bad]));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'decode', '--json', file], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { frame: number; message: string }).frame)).toEqual([1, 2]);
    expect(r.stderr).toMatch(new RegExp(`claims-2g\\.pcap: pcap: malformed: record 3 at byte offset ${good.length}: claims 2147483648 captured bytes`));
    expect(r.status).not.toBe(0);
  });
});
