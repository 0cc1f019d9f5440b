// The API server factory on real sockets: a client that never finishes its
// headers gets 408 and is disconnected; an oversized header block gets 431;
// with a certificate and key the same handler is served over HTTPS (a
// throwaway self-signed certificate made with openssl, trusted by this client only),
// also with its key encrypted under a passphrase.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiServer, listen } from './serverLimits.ts';

const servers: http.Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'http-limits-'));
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  rmSync(dir, { recursive: true, force: true });
});
const ok: http.RequestListener = (_req, res) => res.end('ok');
const port = (s: http.Server) => (s.address() as net.AddressInfo).port;

/** A raw client that writes what `talk` writes: all the server sent until it closed the connection. */
function untilClosed(s: http.Server, talk: (sock: net.Socket) => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const sock = net.connect(port(s), '127.0.0.1');
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
    talk(sock);
    setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
  });
}

describe('API server limits', () => {
  it('a client that sends its headers too slowly gets 408 and the connection is closed', async () => {
    const s = await listen(createApiServer(ok, { headersTimeoutMs: 600, requestTimeoutMs: 1000 }), 0, '127.0.0.1');
    servers.push(s);
    const started = Date.now();
    const answer = await untilClosed(s, (sock) => sock.write('GET / HTTP/1.1\r\nHost: x\r\n')); // and never the blank line
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('a client that sends its body too slowly gets 408 once the request timeout passes, and the connection is closed', async () => {
    // The handler reads the whole body, as a JSON API does.
    const reading: http.RequestListener = (req, res) => {
      req.resume();
      req.on('end', () => res.end('read'));
    };
    const s = await listen(createApiServer(reading, { headersTimeoutMs: 500, requestTimeoutMs: 1200 }), 0, '127.0.0.1');
    servers.push(s);
    const started = Date.now();
    const answer = await untilClosed(s, (sock) => {
      // Headers at once; of the 100-byte body a byte every 200 ms (~20 s if let be).
      sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
      const drip = setInterval(() => sock.writable && sock.write('x'), 200);
      sock.on('close', () => clearInterval(drip));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('431 for a header block over the limit', async () => {
    const s = await listen(createApiServer(ok, { maxHeaderBytes: 2048 }), 0, '127.0.0.1');
    servers.push(s);
    const res = await fetch(`http://127.0.0.1:${port(s)}/`, { headers: { 'x-big': 'y'.repeat(4000) } });
    expect(res.status).toBe(431);
    expect((await fetch(`http://127.0.0.1:${port(s)}/`)).status).toBe(200);
  });

  it('HTTPS with a certificate and key', async () => {
    const { cert, key } = selfSigned('plain');
    const s = await listen(createApiServer(ok, { tlsCertFile: cert, tlsKeyFile: key }), 0, '127.0.0.1');
    servers.push(s);
    expect(await httpsBody(s, cert)).toBe('ok');
    expect(() => createApiServer(ok, { tlsCertFile: cert })).toThrow(/both/);
  });

  it('HTTPS with a key encrypted under a passphrase; without it or with a wrong one, no server', async () => {
    const { cert, key } = selfSigned('encrypted', 'api key secret');
    expect(readFileSync(key, 'utf8')).toContain('ENCRYPTED');
    expect(() => createApiServer(ok, { tlsCertFile: cert, tlsKeyFile: key })).toThrow('set its passphrase (PRESENCE_HTTP_TLS_KEY_PASSPHRASE)');
    expect(() => createApiServer(ok, { tlsCertFile: cert, tlsKeyFile: key, tlsKeyPassphrase: 'wrong' })).toThrow(/wrong passphrase/);
    const s = await listen(createApiServer(ok, { tlsCertFile: cert, tlsKeyFile: key, tlsKeyPassphrase: 'api key secret' }), 0, '127.0.0.1');
    servers.push(s);
    expect(await httpsBody(s, cert)).toBe('ok');
  });
});

/** A throwaway self-signed pair for 127.0.0.1, its RSA key encrypted when a passphrase is given (openssl's own -passout). */
function selfSigned(name: string, passphrase?: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  const keyProtection = passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${passphrase}`];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      ...keyProtection,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function httpsBody(s: http.Server, cert: string): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    https
      .get({ host: '127.0.0.1', port: port(s), path: '/', ca: readFileSync(cert) }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      })
      .on('error', reject),
  );
}
