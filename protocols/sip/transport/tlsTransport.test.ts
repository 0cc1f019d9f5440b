// SIP over TLS on real sockets on 127.0.0.1, with certificates of a throwaway
// CA made by openssl (infra/local/testCertificates.ts): a request over TLS is
// delivered as 'tls' and answered over the same connection; the listener with
// a client CA refuses a client whose certificate another CA signed, and one
// without a certificate; an outgoing connection to a server our CA did not
// sign, or whose certificate does not name the address dialled, fails and the
// write with it — nothing is sent unverified.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority } from '../../../infra/local/testCertificates.ts';
import { Inbox } from '../../../test/support/udpInbox.ts';
import { eventually } from '../../../test/support/wait.ts';
import { buildRequest, buildResponse, newBranch, serialize, type OutgoingRequest } from '../message/index.ts';
import { responseTarget } from './responseTarget.ts';
import { SipTransport } from './transport.ts';
import type { SipTlsOptions } from './tlsTransport.ts';

const HOST = '127.0.0.1';
const dir = mkdtempSync(path.join(tmpdir(), 'sip-tls-'));
const pem = (f: string) => readFileSync(f);
let trusted: { ca: Buffer; server: { cert: Buffer; key: Buffer }; client: { cert: Buffer; key: Buffer }; localhostOnly: { cert: Buffer; key: Buffer } };
let rogue: { ca: Buffer; client: { cert: Buffer; key: Buffer } };

beforeAll(async () => {
  const ca = await createTestCertificateAuthority(path.join(dir, 'trusted'));
  const other = await createTestCertificateAuthority(path.join(dir, 'rogue'), 'rogue CA');
  const load = async (issued: Promise<{ certFile: string; keyFile: string }>) => {
    const c = await issued;
    return { cert: pem(c.certFile), key: pem(c.keyFile) };
  };
  trusted = {
    ca: pem(ca.caFile),
    server: await load(ca.issue('server', [HOST])),
    client: await load(ca.issue('client', [HOST])),
    localhostOnly: await load(ca.issue('named', ['localhost'])),
  };
  rogue = { ca: pem(other.caFile), client: await load(other.issue('client', [HOST])) };
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function transport(tls: SipTlsOptions): Promise<SipTransport> {
  const t = await SipTransport.listen({ host: HOST, tls, tcpConnectTimeoutMs: 2000 });
  open.push(t);
  return t;
}

function options(from: SipTransport, callId: string): OutgoingRequest {
  return buildRequest(
    { method: 'OPTIONS', requestUri: `sips:${HOST}`, from: { uri: 'sips:watcher@example.com', tag: 'w1' }, to: { uri: `sips:${HOST}` }, callId, cseq: 1 },
    { transport: 'tls', host: HOST, port: from.port, branch: newBranch() },
  );
}

describe('SipTransport over TLS', () => {
  it('delivers a request received over TLS as tls and answers it over the same connection', async () => {
    const server = await transport({ ...trusted.server, port: 0, clientCa: trusted.ca });
    const client = await transport({ ...trusted.client, serverCa: trusted.ca });
    expect(server.tlsPort).toBeGreaterThan(0);
    expect(server.tlsPort).not.toBe(server.port);
    const inbox = new Inbox(server);
    const replies = new Inbox(client);
    await client.send(options(client, 'tls-1'), { transport: 'tls', host: HOST, port: server.tlsPort });
    const got = await inbox.next(5000);
    expect(got.source.transport).toBe('tls');
    expect(got.message.topVia?.transport).toBe('TLS');
    const route = responseTarget(got.message.topVia, got.source);
    expect(route.primary).toEqual({ transport: 'tls', host: HOST, port: got.source.port });
    expect(route.fallback?.transport).toBe('tls');
    await server.send(serialize(buildResponse(got.message, 200)), route.primary, { reuseOnly: true });
    const answer = await replies.next(5000);
    expect(answer.message.status).toBe(200);
    expect(answer.source).toEqual({ transport: 'tls', address: HOST, port: server.tlsPort });
    // One connection, opened by the client, carried both: the server opened none.
    expect(server.stats.tlsConnectionsAccepted).toBe(1);
    expect(server.stats.tlsConnectionsOpened).toBe(0);
    expect(client.stats.sent.tls).toBe(1);
    expect(server.stats.received.tls).toBe(1);
    expect(server.hasConnection(HOST, got.source.port, 'tls')).toBe(true);
    expect(server.hasConnection(HOST, got.source.port, 'tcp')).toBe(false);
  });

  it('refuses a client whose certificate another CA signed, and one with no certificate; nothing reaches the handler', async () => {
    const server = await transport({ ...trusted.server, port: 0, clientCa: trusted.ca });
    const inbox = new Inbox(server);
    for (const cert of [rogue.client, undefined]) {
      const socket = tlsConnect({ host: HOST, port: server.tlsPort, ca: trusted.ca, ...(cert ?? {}) });
      open.push({ close: () => socket.destroy() });
      socket.on('error', () => {});
      socket.on('secureConnect', () => socket.write(serialize(options(server, 'rogue'))));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    }
    const failures = await eventually('two refused handshakes', () => {
      const n = Object.values(server.stats.tlsHandshakeFailures).reduce((a, b) => a + b, 0);
      return n >= 2 ? server.stats.tlsHandshakeFailures : undefined;
    });
    expect(Object.keys(failures).length).toBeGreaterThan(0);
    expect(inbox.all).toEqual([]);
    expect(server.stats.tlsConnectionsAccepted).toBe(0);
  });

  it('fails a send to a server whose certificate our CA did not sign, or that does not name the address dialled', async () => {
    const rogueServer = await transport({ ...rogue.client, port: 0 });
    const misnamed = await transport({ ...trusted.localhostOnly, port: 0 });
    const client = await transport({ serverCa: trusted.ca });
    await expect(client.send(options(client, 'to-rogue'), { transport: 'tls', host: HOST, port: rogueServer.tlsPort })).rejects.toThrow();
    await expect(client.send(options(client, 'to-misnamed'), { transport: 'tls', host: HOST, port: misnamed.tlsPort })).rejects.toThrow(/altnames|IP/i);
    expect(Object.keys(client.stats.tlsHandshakeFailures).sort()).toEqual(['ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    expect(client.stats.sent.tls).toBe(0);
  });

  it('without TLS configured, a send over TLS is an error, not a plain-text fallback', async () => {
    const plain = await SipTransport.listen({ host: HOST });
    open.push(plain);
    expect(plain.tlsPort).toBe(0);
    await expect(plain.send(options(plain, 'no-tls'), { transport: 'tls', host: HOST, port: 5061 })).rejects.toThrow(/TLS is not configured/);
  });
});
