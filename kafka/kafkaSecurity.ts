// The brokers' security settings (config/settings.ts) as each client library
// spells them. Every client builder of ours (rdkafkaConfig.ts, kafkaAdmin.ts)
// merges `clientSecurity()` in, so no client can be created without them.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { loadSettings, type KafkaSecurity } from '../config/settings.ts';

export const PLAINTEXT: KafkaSecurity = {
  protocol: 'PLAINTEXT',
  saslMechanism: 'SCRAM-SHA-512',
  username: undefined,
  password: undefined,
  caFile: undefined,
  certFile: undefined,
  keyFile: undefined,
  keyPassword: undefined,
  verifyHostname: true,
  oauthbearer: {},
};

let current: KafkaSecurity | undefined;

/** The process's security settings: from loadSettings() on first use, or as set by `useKafkaSecurity`. */
export function clientSecurity(): KafkaSecurity {
  current ??= loadSettings().kafka.security;
  return current;
}

/** Sets the security every client built afterwards uses (tests against a private broker; undefined: back to loadSettings()). */
export function useKafkaSecurity(s: KafkaSecurity | undefined): void {
  current = s;
}

/** librdkafka properties (node-rdkafka producers and consumers). */
export function rdkafkaSecurity(s: KafkaSecurity = clientSecurity()): Record<string, string> {
  const out: Record<string, string> = { 'security.protocol': s.protocol.toLowerCase() };
  if (s.protocol.startsWith('SASL_')) {
    out['sasl.mechanisms'] = s.saslMechanism;
    if (s.saslMechanism === 'OAUTHBEARER') Object.assign(out, s.oauthbearer);
    else {
      if (s.username !== undefined) out['sasl.username'] = s.username;
      if (s.password !== undefined) out['sasl.password'] = s.password;
    }
  }
  if (s.protocol.endsWith('SSL')) {
    if (s.caFile) out['ssl.ca.location'] = s.caFile;
    if (s.certFile) out['ssl.certificate.location'] = s.certFile;
    if (s.keyFile) out['ssl.key.location'] = s.keyFile;
    if (s.keyPassword !== undefined) out['ssl.key.password'] = s.keyPassword;
    out['ssl.endpoint.identification.algorithm'] = s.verifyHostname ? 'https' : 'none';
  }
  return out;
}

/** Node TLS options for a TLS listener, or undefined for plaintext (kafkajs, the wire client). */
export function tlsOptions(s: KafkaSecurity = clientSecurity()): ConnectionOptions | undefined {
  if (!s.protocol.endsWith('SSL')) return undefined;
  const opts: ConnectionOptions = { rejectUnauthorized: true };
  if (s.caFile) opts.ca = readFileSync(s.caFile);
  if (s.certFile) opts.cert = readFileSync(s.certFile);
  if (s.keyFile) opts.key = readFileSync(s.keyFile);
  if (s.keyPassword !== undefined) opts.passphrase = s.keyPassword;
  // The chain is still verified; only the name check is skipped.
  if (!s.verifyHostname) opts.checkServerIdentity = () => undefined;
  return opts;
}

/** kafkajs `ssl` and `sasl` options. kafkajs has no OIDC client: OAUTHBEARER is refused with a clear error. */
export function kafkajsSecurity(s: KafkaSecurity = clientSecurity()): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  const ssl = tlsOptions(s);
  if (!s.protocol.startsWith('SASL_')) return ssl ? { ssl } : {};
  const username = s.username ?? '';
  const password = s.password ?? '';
  let sasl: SASLOptions;
  switch (s.saslMechanism) {
    case 'PLAIN':
      sasl = { mechanism: 'plain', username, password };
      break;
    case 'SCRAM-SHA-256':
      sasl = { mechanism: 'scram-sha-256', username, password };
      break;
    case 'SCRAM-SHA-512':
      sasl = { mechanism: 'scram-sha-512', username, password };
      break;
    case 'OAUTHBEARER':
      throw new Error(
        'the kafkajs admin client cannot fetch OAUTHBEARER (OIDC) tokens: use SCRAM or PLAIN credentials for administration (topics apply, locate)',
      );
  }
  return ssl ? { ssl, sasl } : { sasl };
}
