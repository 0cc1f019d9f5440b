// `presence stack up --kafka-security sasl-ssl`: the embedded broker's client
// port becomes a SASL_SSL listener (SCRAM-SHA-512 user `presence`, TLS with a
// throwaway local CA), as an operator's cluster would be, so the whole pipeline
// can be run and tested with authenticated, encrypted Kafka on one machine.
// The choice is made when the broker's storage is formatted (KRaft keeps SCRAM
// credentials in its metadata log, KIP-900) and remembered in <home>/kafka;
// the client side is written to stackClientSecurityFile(home), which every
// command reads when nothing else configures Kafka security.
import { randomBytes, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackClientSecurityFile, type KafkaSecurity, type Settings } from '../../config/settings.ts';
import type { SaslSslListener } from './kafkaBroker.ts';
import { createTestCertificateAuthority, type TestCertificateAuthority } from './testCertificates.ts';

export const STACK_KAFKA_SECURITY = ['plaintext', 'sasl-ssl'] as const;
export type StackKafkaSecurity = (typeof STACK_KAFKA_SECURITY)[number];

/** The SCRAM user the stack creates for its own clients. */
export const STACK_KAFKA_USER = 'presence';

function choiceFile(home: string): string {
  return path.join(home, 'kafka', 'security.json');
}

function formatted(home: string): boolean {
  return existsSync(path.join(home, 'kafka', 'data', 'meta.properties'));
}

/** What the broker's storage was formatted for; undefined before the first start. A storage formatted before this choice existed is plaintext. */
export function recordedStackKafkaSecurity(home: string): StackKafkaSecurity | undefined {
  if (existsSync(choiceFile(home))) return (JSON.parse(readFileSync(choiceFile(home), 'utf8')) as { kafkaSecurity: StackKafkaSecurity }).kafkaSecurity;
  return formatted(home) ? 'plaintext' : undefined;
}

/**
 * The security the broker starts with: the one asked for, else the recorded one, else plaintext.
 * Asking for another than the storage was formatted for is refused: SCRAM users exist only from format time.
 */
export function resolveStackKafkaSecurity(home: string, asked: StackKafkaSecurity | undefined): StackKafkaSecurity {
  const recorded = recordedStackKafkaSecurity(home);
  if (asked && recorded && asked !== recorded)
    throw new Error(
      `the embedded broker's storage in ${path.join(home, 'kafka', 'data')} was formatted for ${recorded}; ` +
        `to switch to ${asked}, stop the stack (\`presence stack down\`) and remove that directory (its topics are lost), then \`presence stack up --kafka-security ${asked}\``,
    );
  return asked ?? recorded ?? 'plaintext';
}

/** Remembers the choice once the storage exists. */
export function recordStackKafkaSecurity(home: string, choice: StackKafkaSecurity): void {
  mkdirSync(path.join(home, 'kafka'), { recursive: true });
  writeFileSync(choiceFile(home), `${JSON.stringify({ kafkaSecurity: choice })}\n`);
}

/** A new throwaway CA in `dir` and a broker certificate for 127.0.0.1/localhost, as a PEM keystore Kafka reads. */
export async function makeBrokerTls(dir: string, caName: string): Promise<{ caFile: string; keystorePemFile: string; ca: TestCertificateAuthority }> {
  const ca = await createTestCertificateAuthority(dir, caName);
  const cert = await ca.issue('broker', ['127.0.0.1', 'localhost']);
  // Kafka's PEM keystore reads PKCS#8 keys only; openssl wrote a SEC1 EC key.
  const pkcs8 = createPrivateKey(readFileSync(cert.keyFile)).export({ type: 'pkcs8', format: 'pem' }).toString();
  const keystorePemFile = path.join(dir, 'broker-keystore.pem');
  writeFileSync(keystorePemFile, pkcs8 + readFileSync(cert.certFile, 'utf8'), { mode: 0o600 });
  return { caFile: ca.caFile, keystorePemFile, ca };
}

/**
 * The listener's files, made before each start of the broker: a fresh CA and
 * broker certificate (the CA is a 30-day throwaway, so a restart never serves an
 * expired one), the user's password (kept: the SCRAM credential was stored at
 * format time) and the clients' settings.
 */
export async function prepareSaslSslListener(s: Settings): Promise<{ listener: SaslSslListener; client: KafkaSecurity }> {
  const dir = path.join(s.home, 'kafka', 'tls');
  const { caFile, keystorePemFile } = await makeBrokerTls(dir, 'presence local stack CA');

  const passwordFile = path.join(dir, `${STACK_KAFKA_USER}.password`);
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  const security = { protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', username: STACK_KAFKA_USER, caFile } as const;
  writeFileSync(stackClientSecurityFile(s.home), `${JSON.stringify({ kafka: { security: { ...security, password: { file: passwordFile } } } }, null, 2)}\n`, {
    mode: 0o600,
  });
  return {
    listener: { keystorePemFile, caFile, users: [{ mechanism: 'SCRAM-SHA-512', name: STACK_KAFKA_USER, password }] },
    client: {
      ...security,
      password,
      certFile: undefined,
      keyFile: undefined,
      keyPassword: undefined,
      verifyHostname: true,
      oauthbearer: {},
    },
  };
}
