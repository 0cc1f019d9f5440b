// Mutual TLS between our own HTTP roles, on real sockets: an API server given
// a client CA refuses a client without a certificate from it at the
// handshake, and apiGet presents the configured one (certificates from a
// throwaway CA made with openssl).
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../infra/local/testCertificates.ts';
import { expectRenewedOnSighup, peerCertificate, withEncryptedKey } from '../../test/support/tlsPeer.ts';
import { apiGet } from './apiClient.ts';
import { createApiServer, listen } from './serverLimits.ts';

const dir = mkdtempSync(join(tmpdir(), 'api-mtls-'));
let caFile = '';
let client: IssuedCertificate;
let stranger: IssuedCertificate;
let server: http.Server;
let url = '';
let issue: (name: string, names: string[]) => Promise<IssuedCertificate>;

beforeAll(async () => {
  const ca = await createTestCertificateAuthority(join(dir, 'ca'));
  const other = await createTestCertificateAuthority(join(dir, 'other'));
  caFile = ca.caFile;
  issue = (name, names) => ca.issue(name, names);
  const serverCert = await ca.issue('server', ['127.0.0.1']);
  client = await ca.issue('client', ['locator']);
  stranger = await other.issue('stranger', ['locator']);
  server = await listen(
    createApiServer((req, res) => res.end(JSON.stringify({ path: req.url })), {
      tlsCertFile: serverCert.certFile,
      tlsKeyFile: serverCert.keyFile,
      tlsClientCaFile: ca.caFile,
    }),
    0,
    '127.0.0.1',
  );
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('mutual TLS for the HTTP APIs', () => {
  it('answers a client presenting a certificate from the client CA', async () => {
    const res = await apiGet(`${url}/subscribers/x`, { timeoutMs: 5000, tls: { caFile, certFile: client.certFile, keyFile: client.keyFile } });
    expect(res).toEqual({ status: 200, body: { path: '/subscribers/x' } });
  });

  it('presents a certificate whose key is encrypted, decrypted with PRESENCE_HTTP_CLIENT_KEY_PASSPHRASE; refused without it', async () => {
    const encrypted = withEncryptedKey(client, 'client key secret');
    const res = await apiGet(`${url}/x`, { timeoutMs: 5000, tls: { caFile, ...encrypted, keyPassphrase: 'client key secret' } });
    expect(res.status).toBe(200);
    expect(() => apiGet(`${url}/x`, { timeoutMs: 5000, tls: { caFile, ...encrypted } })).toThrow('set its passphrase (PRESENCE_HTTP_CLIENT_KEY_PASSPHRASE)');
  });

  it('refuses a client without a certificate, or with one from another CA, at the handshake', async () => {
    await expect(apiGet(`${url}/`, { timeoutMs: 5000, tls: { caFile } })).rejects.toThrow(/certificate|alert|socket hang up|ECONNRESET/i);
    await expect(apiGet(`${url}/`, { timeoutMs: 5000, tls: { caFile, certFile: stranger.certFile, keyFile: stranger.keyFile } })).rejects.toThrow(
      /certificate|alert|socket hang up|ECONNRESET/i,
    );
  });

  it('refuses a server whose CA it was not told to trust', async () => {
    await expect(apiGet(`${url}/`, { timeoutMs: 5000, tls: { certFile: client.certFile, keyFile: client.keyFile } })).rejects.toThrow(/certificate/i);
  });

  it('refuses a client CA without HTTPS, and a client certificate towards plain HTTP', () => {
    expect(() => createApiServer(() => {}, { tlsClientCaFile: caFile })).toThrow(/needs HTTPS/);
    expect(() => apiGet('http://127.0.0.1:1/', { timeoutMs: 100, tls: { certFile: client.certFile, keyFile: client.keyFile } })).toThrow(/plain HTTP/);
  });

  it('takes a renewed server certificate from its files on SIGHUP, without a restart', async () => {
    const [first, renewed] = [await issue('api-first', ['127.0.0.1']), await issue('api-renewed', ['127.0.0.1', 'localhost'])];
    const live = { certFile: join(dir, 'api-live.crt'), keyFile: join(dir, 'api-live.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    const api = await listen(
      createApiServer((_req, res) => res.end('{}'), { tlsCertFile: live.certFile, tlsKeyFile: live.keyFile, tlsReloadIntervalS: 0 }),
      0,
      '127.0.0.1',
    );
    const port = (api.address() as { port: number }).port;
    const served = async () => (await peerCertificate(port, { ca: readFileSync(caFile) })).subjectaltname ?? '';
    try {
      await expectRenewedOnSighup(live, renewed, served);
    } finally {
      await new Promise((r) => api.close(r));
    }
  });
});
