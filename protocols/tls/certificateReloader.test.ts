import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../infra/local/testCertificates.ts';
import { peerCertificate } from '../../test/support/tlsPeer.ts';
import { CertificateReloader } from './certificateReloader.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-cert-reload-'));
const live = { certFile: path.join(dir, 'live.crt'), keyFile: path.join(dir, 'live.key') };
let caFile: string;
let first: IssuedCertificate;
let renewed: IssuedCertificate;
let server: Server;
let port: number;

const served = () => peerCertificate(port, { ca: readPem(caFile) });

const readPem = (f: string) => readFileSync(f);

function install(c: IssuedCertificate): void {
  copyFileSync(c.certFile, live.certFile);
  copyFileSync(c.keyFile, live.keyFile);
}

beforeAll(async () => {
  const ca = await createTestCertificateAuthority(path.join(dir, 'ca'));
  caFile = ca.caFile;
  first = await ca.issue('first', ['127.0.0.1']);
  renewed = await ca.issue('renewed', ['127.0.0.1', 'localhost']);
  install(first);
  server = createServer({ cert: readPem(live.certFile), key: readPem(live.keyFile) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('certificate reload', () => {
  it('gives new handshakes the renewed certificate once its files change, keeps the old one on a mismatched pair, and on SIGHUP', async () => {
    const lines: string[] = [];
    const reloader = new CertificateReloader(server, live, { what: 'test TLS', intervalMs: 0, log: (l) => lines.push(l) });
    const before = await served();
    expect(reloader.check()).toBe('unchanged');

    // Half-done rotation: the new certificate with the old key. Refused, the old pair still served.
    copyFileSync(renewed.certFile, live.certFile);
    expect(reloader.check()).toBe('failed');
    expect(reloader.stats).toMatchObject({ failures: 1, reloads: 0 });
    expect(lines.at(-1)).toMatch(/keeping the current pair/);
    expect((await served()).fingerprint256).toBe(before.fingerprint256);

    // The key arrives: the next look takes the pair.
    copyFileSync(renewed.keyFile, live.keyFile);
    expect(reloader.check()).toBe('reloaded');
    const after = await served();
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    expect(after.subjectaltname).toContain('DNS:localhost');

    // Back to the first pair, taken on SIGHUP.
    install(first);
    process.emit('SIGHUP');
    expect((await served()).fingerprint256).toBe(before.fingerprint256);
    expect(reloader.stats.reloads).toBe(2);

    // A file that is not PEM at all: refused.
    writeFileSync(live.certFile, 'not a certificate');
    expect(reloader.check()).toBe('failed');
    expect((await served()).fingerprint256).toBe(before.fingerprint256);
    reloader.stop();
  });

  it('looks at the files on its interval', async () => {
    install(first);
    const reloader = new CertificateReloader(server, live, { what: 'test TLS', intervalMs: 50 });
    install(renewed);
    const deadline = Date.now() + 5000;
    while (reloader.stats.reloads === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(reloader.stats.reloads).toBe(1);
    expect((await served()).subjectaltname).toContain('DNS:localhost');
    reloader.stop();
  });
});
