// Every Kafka client of ours against a broker that validates OAUTHBEARER
// tokens itself (Kafka's OAuthBearerValidatorCallbackHandler, KIP-768) against
// the JWKS of a loopback OIDC token server the test starts: kafkajs (admin),
// node-rdkafka (a producer and a read_committed reader) and the KIP-848 wire
// client fetch client-credentials tokens from its /token endpoint
// (kafka/oauthTokens.ts). A wrong client secret is refused at the endpoint and
// named; a token signed by a key the broker does not know is refused by the
// broker. With the JWT bearer grant (RFC 7523) the clients sign an assertion
// with their own key instead of sending a secret, and are served the same way.
// A private broker (ports 19514-19516; SCRAM for its readiness probe).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaSecurity } from '../../config/settings.ts';
import { describeConsumerGroup } from '../../kafka/consumerGroupAdmin.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { PLAINTEXT, useKafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { WireAuthenticationError } from '../../kafka/kafkaWire.ts';
import { JWT_BEARER_GRANT } from '../../kafka/oauthTokens.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { startOidcTokenServer, type OidcTokenServer } from '../support/oidcTokenServer.ts';
import { privateSaslSslBroker, type SaslSslBroker } from '../support/privateBroker.ts';
import { readTopic } from '../support/topicReader.ts';

const port = 19_514;
const brokers = `127.0.0.1:${port}`;
const admin = { mechanism: 'SCRAM-SHA-512', name: 'admin', password: 'oauth-test-admin' } as const;
const clientId = 'presence-gateway';
const clientSecret = 'oidc-client-secret';
const topic = 'oauth-probe';

let tokens: OidcTokenServer;
let stranger: OidcTokenServer;
let broker: SaslSslBroker;
/** The gateway's own key for JWT bearer assertions: the token server holds its public half. */
const assertionKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyDir = mkdtempSync(path.join(tmpdir(), 'it-oauth-assertion-'));
const assertionKeyFile = path.join(keyDir, 'assertion.pem');
writeFileSync(assertionKeyFile, assertionKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));

function oauth(tokenUrl: string, secret = clientSecret): KafkaSecurity {
  return {
    ...PLAINTEXT,
    protocol: 'SASL_SSL',
    saslMechanism: 'OAUTHBEARER',
    caFile: broker.caFile,
    oauthbearer: {
      'sasl.oauthbearer.method': 'oidc',
      'sasl.oauthbearer.token.endpoint.url': tokenUrl,
      'sasl.oauthbearer.client.id': clientId,
      'sasl.oauthbearer.client.secret': secret,
      'sasl.oauthbearer.scope': 'kafka',
    },
  };
}

beforeAll(async () => {
  tokens = await startOidcTokenServer({
    clients: { [clientId]: clientSecret },
    algorithm: 'RS256',
    audience: 'kafka',
    assertionIssuers: { [clientId]: assertionKey.publicKey },
  });
  // Same client, its own key: well-formed tokens the broker must not accept.
  stranger = await startOidcTokenServer({ clients: { [clientId]: clientSecret }, algorithm: 'ES256', audience: 'kafka', issuer: tokens.issuer });
  broker = privateSaslSslBroker('oauth', port, {
    users: [admin],
    oauthBearer: { jwksUrl: tokens.jwksUrl, audience: 'kafka', issuer: tokens.issuer },
  });
  const scram: KafkaSecurity = { ...PLAINTEXT, protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', username: admin.name, password: admin.password };
  useKafkaSecurity({ ...scram, caFile: broker.caFile });
  await broker.start();
  await withAdmin(brokers, (a) => createTopicsAndWait(a, [{ topic, numPartitions: 1 }]));
}, 150_000);

afterAll(async () => {
  useKafkaSecurity(undefined);
  await broker?.remove();
  await tokens?.close();
  await stranger?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('OAUTHBEARER against a broker validating JWTs by JWKS', () => {
  it('lists and creates topics with kafkajs on a client-credentials token', async () => {
    useKafkaSecurity(oauth(tokens.tokenUrl));
    expect(await withAdmin(brokers, (a) => a.listTopics())).toContain(topic);
    await withAdmin(brokers, (a) => createTopicsAndWait(a, [{ topic: 'oauth-created', numPartitions: 2 }]));
    expect(await withAdmin(brokers, (a) => a.listTopics())).toContain('oauth-created');
  });

  it('produces and reads read_committed with node-rdkafka on the same token', async () => {
    useKafkaSecurity(oauth(tokens.tokenUrl));
    const producer = new RecordProducer(brokers, 'it-oauth-producer', 15_000);
    await producer.connect();
    try {
      for (let i = 0; i < 3; i++) expect((await producer.send(topic, `k${i}`, Buffer.from(`oauth-${i}`))).offset).toBe(i);
    } finally {
      await producer.close();
    }
    const read = await readTopic({ brokers, topic, partitions: 1, count: 3, timeoutMs: 30_000 });
    expect(read.map((m) => m.value?.toString())).toEqual(['oauth-0', 'oauth-1', 'oauth-2']);
  });

  it('speaks SASL OAUTHBEARER from the wire client (KIP-848 describe)', async () => {
    useKafkaSecurity(oauth(tokens.tokenUrl));
    // No such group: the broker answered (GROUP_ID_NOT_FOUND) after accepting the token.
    expect(await describeConsumerGroup(brokers, 'oauth-no-such-group')).toBeUndefined();
  });

  it('fetched one token for all those clients (cached until near expiry)', () => {
    expect(tokens.issued).toBe(1);
  });

  it('refuses a wrong client secret at the token endpoint, naming it, from every client kind', async () => {
    useKafkaSecurity(oauth(tokens.tokenUrl, 'not-the-secret'));
    const refusedBefore = tokens.refused;
    const named = /token endpoint .* refused client presence-gateway: invalid_client/;
    await expect(withAdmin(brokers, (a) => a.listTopics())).rejects.toThrow(named);
    await expect(describeConsumerGroup(brokers, 'any')).rejects.toThrow(named);
    const producer = new RecordProducer(brokers, 'it-oauth-wrong', 15_000);
    await expect(producer.connect()).rejects.toThrow(named);
    await producer.close();
    expect(tokens.refused).toBeGreaterThan(refusedBefore);
  });

  it('has the broker refuse a token signed by a key outside its JWKS', async () => {
    useKafkaSecurity(oauth(stranger.tokenUrl));
    const err = await describeConsumerGroup(brokers, 'any').catch((e: unknown) => e);
    expect(stranger.issued).toBe(1);
    expect(err).toBeInstanceOf(WireAuthenticationError);
    expect((err as Error).message).toMatch(/refused SASL OAUTHBEARER authentication/);
    expect((err as Error).message).toMatch(/invalid_token/);
    // kafkajs refuses too, though only as "No brokers in the broker pool" once its retries are spent.
    await expect(withAdmin(brokers, (a) => a.listTopics())).rejects.toThrow();
    const producer = new RecordProducer(brokers, 'it-oauth-stranger', 15_000);
    await expect(producer.connect()).rejects.toThrow(/SASL authentication error/);
    await producer.close();
  });

  it('serves every client kind on a JWT bearer grant: an ES256 assertion signed with the client key, no secret sent', async () => {
    useKafkaSecurity({
      ...oauth(tokens.tokenUrl),
      oauthbearer: {
        'sasl.oauthbearer.method': 'oidc',
        'sasl.oauthbearer.grant.type': JWT_BEARER_GRANT,
        'sasl.oauthbearer.token.endpoint.url': tokens.tokenUrl,
        'sasl.oauthbearer.scope': 'kafka',
        'sasl.oauthbearer.assertion.algorithm': 'ES256',
        'sasl.oauthbearer.assertion.private.key.file': assertionKeyFile,
        'sasl.oauthbearer.assertion.claim.iss': clientId,
        'sasl.oauthbearer.assertion.claim.sub': 'presence-jwt-bearer',
        'sasl.oauthbearer.assertion.claim.aud': tokens.tokenUrl,
      },
    });
    const before = tokens.assertions.length;
    expect(await withAdmin(brokers, (a) => a.listTopics())).toContain(topic);
    const producer = new RecordProducer(brokers, 'it-oauth-jwt-bearer', 15_000);
    await producer.connect();
    try {
      expect((await producer.send(topic, 'jwt', Buffer.from('jwt-bearer'))).offset).toBe(3);
    } finally {
      await producer.close();
    }
    expect(await describeConsumerGroup(brokers, 'oauth-no-such-group')).toBeUndefined();
    // One assertion, one token, shared by the three clients.
    expect(tokens.assertions.length).toBe(before + 1);
    expect(tokens.assertions.at(-1)).toMatchObject({ iss: clientId, sub: 'presence-jwt-bearer', aud: tokens.tokenUrl });
  });
});
