// The wire client's SASL framing against a fake broker on loopback that
// plays the server side of SCRAM (RFC 5802 §3), PLAIN (RFC 4616) and OAUTHBEARER (RFC 7628), so the handshake and
// authenticate encodings are checked without a real broker
// (test/integration/kafkaSaslSsl.test.ts runs them against one).
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaSecurity } from '../config/settings.ts';
import { PLAINTEXT, useKafkaSecurity } from './kafkaSecurity.ts';
import { WireAuthenticationError, wireRequest, WireWriter } from './kafkaWire.ts';
import { startFakeKafka } from '../test/support/fakeKafkaBroker.ts';
import { startOidcTokenServer } from '../test/support/oidcTokenServer.ts';

interface FakeOptions {
  password: string;
  /** Mechanisms the handshake accepts. */
  mechanisms?: string[];
  /** The user PLAIN accepts (SCRAM here checks only the password). */
  user?: string;
  /** OAUTHBEARER: whether the bearer token is accepted (RFC 7628 error challenge otherwise). */
  bearer?: (token: string) => boolean;
}

const SALT = Buffer.from('fake-broker-salt');
const ITERATIONS = 4096;

/** A broker that answers SaslHandshake v1, SaslAuthenticate v2 (SCRAM-SHA-512 or PLAIN) and echoes any other request's API key. */
async function fakeBroker(o: FakeOptions): Promise<{ port: number; seen: number[]; tokens: Buffer[]; close: () => void }> {
  const seen: number[] = [];
  const tokens: Buffer[] = [];
  const fake = await startFakeKafka((reply) => {
    let plain = false;
    let oauth = false;
    let oauthRefused = false;
    let clientFirstBare = '';
    let serverFirst = '';
    return ({ apiKey, id, reader: r }) => {
      seen.push(apiKey);
      if (apiKey === 17) {
        const mechanism = r.string() ?? '';
        plain = mechanism === 'PLAIN';
        oauth = mechanism === 'OAUTHBEARER';
        const offered = o.mechanisms ?? ['SCRAM-SHA-512'];
        const w = new WireWriter().int16(offered.includes(mechanism) ? 0 : 33).int32(offered.length);
        for (const m of offered) w.string(m);
        reply(id, false, w.bytes());
        return;
      }
      r.tags();
      if (apiKey === 36) {
        const raw = r.compactBytes() ?? Buffer.alloc(0);
        tokens.push(raw);
        const token = raw.toString('utf8');
        const answer = (code: number, message: string | null, bytes: string) =>
          reply(id, true, new WireWriter().int16(code).compactString(message).compactBytes(Buffer.from(bytes)).push(Buffer.alloc(8)).tags().bytes());
        if (oauth) {
          // Kafka's OAuthBearerSaslServer: a refused token gets an error challenge, the client's kvsep then a failure.
          if (oauthRefused) return answer(58, '{"status":"invalid_token"}', '');
          const [gs2, auth, ...end] = token.split('\x01');
          const bearer = gs2 === 'n,,' && end.join('|') === '|' && auth?.startsWith('auth=Bearer ') ? auth.slice(12) : undefined;
          if (bearer && o.bearer?.(bearer)) return answer(0, null, '');
          oauthRefused = true;
          return answer(0, null, '{"status":"invalid_token"}');
        }
        if (plain) {
          // Kafka's PlainSaslServer: exactly three NUL-separated fields, authzid empty or the user itself.
          const [authzid, user, password, ...rest] = token.split('\0');
          const ok = rest.length === 0 && user === (o.user ?? 'presence') && password === o.password && (authzid === '' || authzid === user);
          if (ok) answer(0, null, '');
          else answer(58, 'Authentication failed: Invalid username or password', '');
          return;
        }
        if (!clientFirstBare) {
          clientFirstBare = token.slice(3);
          const nonce = /r=([^,]*)/.exec(token)![1]!;
          serverFirst = `r=${nonce}SERVER,s=${SALT.toString('base64')},i=${ITERATIONS}`;
          answer(0, null, serverFirst);
          return;
        }
        const withoutProof = token.slice(0, token.indexOf(',p='));
        const proof = Buffer.from(token.slice(token.indexOf(',p=') + 3), 'base64');
        const salted = pbkdf2Sync(o.password, SALT, ITERATIONS, 64, 'sha512');
        const hmac = (k: Buffer, d: string) => createHmac('sha512', k).update(d).digest();
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const signature = hmac(createHash('sha512').update(hmac(salted, 'Client Key')).digest(), authMessage);
        const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
        if (
          !createHash('sha512')
            .update(clientKey)
            .digest()
            .equals(createHash('sha512').update(hmac(salted, 'Client Key')).digest())
        ) {
          answer(58, 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512', '');
          return;
        }
        answer(0, null, `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`);
        return;
      }
      reply(id, true, new WireWriter().int16(apiKey).bytes());
    };
  });
  return { port: fake.port, seen, tokens, close: fake.close };
}

const sasl = (password: string, saslMechanism: KafkaSecurity['saslMechanism'] = 'SCRAM-SHA-512'): KafkaSecurity => ({
  ...PLAINTEXT,
  protocol: 'SASL_PLAINTEXT',
  saslMechanism,
  username: 'presence',
  password,
});

const bearer = (tokenUrl: string, secret: string): KafkaSecurity => ({
  ...PLAINTEXT,
  protocol: 'SASL_PLAINTEXT',
  saslMechanism: 'OAUTHBEARER',
  oauthbearer: {
    'sasl.oauthbearer.method': 'oidc',
    'sasl.oauthbearer.token.endpoint.url': tokenUrl,
    'sasl.oauthbearer.client.id': 'gw',
    'sasl.oauthbearer.client.secret': secret,
  },
});

const closers: Array<() => void> = [];
afterEach(() => {
  useKafkaSecurity(undefined);
  for (const c of closers.splice(0)) c();
});

describe('wireRequest over SASL', () => {
  it('authenticates with SCRAM-SHA-512 (handshake, two authenticate rounds) before the request', async () => {
    const b = await fakeBroker({ password: 'right' });
    closers.push(b.close);
    useKafkaSecurity(sasl('right'));
    const r = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000);
    expect(r.int16()).toBe(69);
    expect(b.seen).toEqual([17, 36, 36, 69]);
  });

  it('refuses a wrong password with the broker’s message, without sending the request', async () => {
    const b = await fakeBroker({ password: 'right' });
    closers.push(b.close);
    useKafkaSecurity(sasl('wrong'));
    const err = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireAuthenticationError);
    expect((err as Error).message).toMatch(/refused SASL SCRAM-SHA-512 authentication of user presence: .*invalid credentials/);
    expect(b.seen).toEqual([17, 36, 36]);
  });

  it('names the mechanisms a broker offers when ours is not among them', async () => {
    const b = await fakeBroker({ password: 'right', mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    closers.push(b.close);
    useKafkaSecurity(sasl('right'));
    await expect(wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000)).rejects.toThrow(
      /does not offer SASL SCRAM-SHA-512 \(error 33; it offers PLAIN, SCRAM-SHA-256\)/,
    );
  });

  it('authenticates with PLAIN (handshake, one authenticate round: NUL user NUL password) before the request', async () => {
    const b = await fakeBroker({ password: 'right', mechanisms: ['PLAIN'] });
    closers.push(b.close);
    useKafkaSecurity(sasl('right', 'PLAIN'));
    const r = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000);
    expect(r.int16()).toBe(69);
    expect(b.seen).toEqual([17, 36, 69]);
    expect(b.tokens).toEqual([Buffer.from('\0presence\0right', 'utf8')]);
  });

  it('refuses a wrong PLAIN password naming the user, never the password, without sending the request', async () => {
    const b = await fakeBroker({ password: 'right', mechanisms: ['PLAIN'] });
    closers.push(b.close);
    useKafkaSecurity(sasl('s3cret-wrong', 'PLAIN'));
    const err = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireAuthenticationError);
    expect((err as Error).message).toMatch(/refused SASL PLAIN authentication of user presence: .*Invalid username or password/);
    expect((err as Error).message).not.toContain('s3cret-wrong');
    expect(String((err as Error).stack)).not.toContain('s3cret-wrong');
    expect(b.seen).toEqual([17, 36]);
  });

  it('names the mechanisms a broker offers when it does not offer PLAIN', async () => {
    const b = await fakeBroker({ password: 'right', mechanisms: ['SCRAM-SHA-512'] });
    closers.push(b.close);
    useKafkaSecurity(sasl('right', 'PLAIN'));
    await expect(wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000)).rejects.toThrow(
      /does not offer SASL PLAIN \(error 33; it offers SCRAM-SHA-512\)/,
    );
    expect(b.seen).toEqual([17]);
  });

  it('sends an OAUTHBEARER token fetched from the token endpoint as the RFC 7628 initial response', async () => {
    const idp = await startOidcTokenServer({ clients: { gw: 'secret' } });
    closers.push(() => void idp.close());
    const b = await fakeBroker({ password: 'unused', mechanisms: ['OAUTHBEARER'], bearer: (t) => t.split('.').length === 3 });
    closers.push(b.close);
    useKafkaSecurity(bearer(idp.tokenUrl, 'secret'));
    const r = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000);
    expect(r.int16()).toBe(69);
    expect(b.seen).toEqual([17, 36, 69]);
    const sub = JSON.parse(Buffer.from(/Bearer [^.]+\.([^.]+)\./.exec(b.tokens[0]!.toString())![1]!, 'base64url').toString()) as { sub: string };
    expect(sub.sub).toBe('gw');
  });

  it('takes a refused token’s error challenge as a refusal, acknowledging it, never sending the request', async () => {
    const idp = await startOidcTokenServer({ clients: { gw: 'secret' } });
    closers.push(() => void idp.close());
    const b = await fakeBroker({ password: 'unused', mechanisms: ['OAUTHBEARER'], bearer: () => false });
    closers.push(b.close);
    useKafkaSecurity(bearer(idp.tokenUrl, 'secret'));
    const err = await wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireAuthenticationError);
    expect((err as Error).message).toMatch(/refused SASL OAUTHBEARER authentication of user gw: .*invalid_token/);
    expect(b.seen).toEqual([17, 36, 36]);
    expect(b.tokens[1]!.toString()).toBe('\x01');
  });

  it('names a client secret the token endpoint refuses, before talking to the broker', async () => {
    const idp = await startOidcTokenServer({ clients: { gw: 'secret' } });
    closers.push(() => void idp.close());
    const b = await fakeBroker({ password: 'unused', mechanisms: ['OAUTHBEARER'], bearer: () => true });
    closers.push(b.close);
    useKafkaSecurity(bearer(idp.tokenUrl, 'wrong'));
    await expect(wireRequest('127.0.0.1', b.port, 69, 0, new WireWriter().tags().bytes(), 5000)).rejects.toThrow(
      /token endpoint .* refused client gw: invalid_client/,
    );
    expect(b.seen).toEqual([]);
  });

  it('fails within the timeout when the broker never answers', async () => {
    const server = net.createServer(() => {});
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    closers.push(() => server.close());
    useKafkaSecurity(sasl('right'));
    const started = Date.now();
    await expect(wireRequest('127.0.0.1', (server.address() as net.AddressInfo).port, 69, 0, Buffer.alloc(0), 500)).rejects.toThrow(
      /did not answer within 500 ms/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
