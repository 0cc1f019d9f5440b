// The brokers' security settings (config/settings.ts) as each client library
// spells them. Every client builder of ours (rdkafkaConfig.ts, kafkaAdmin.ts)
// merges `clientSecurity()` in, so no client can be created without them.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { loadSettings, type KafkaSecurity } from '../config/settings.ts';
import { tokenSourceFor } from './oauthTokens.ts';

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
    // With method oidc the token is fetched by oauthTokens.ts and set on the client when it connects (rdkafkaPromises.ts):
    // this librdkafka build has no libcurl for its own fetcher. Other methods (the unsecured `default`) pass through.
    if (s.saslMechanism === 'OAUTHBEARER') {
      if (!isOidc(s)) Object.assign(out, s.oauthbearer);
    } else {
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

/** OAUTHBEARER with tokens from a token endpoint (client credentials), which we fetch for every client kind. */
export function isOidc(s: KafkaSecurity): boolean {
  return s.saslMechanism === 'OAUTHBEARER' && (s.oauthbearer['sasl.oauthbearer.method'] ?? '').toLowerCase() === 'oidc';
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

/** kafkajs `ssl` and `sasl` options; OAUTHBEARER tokens come from oauthTokens.ts (kafkajs has no fetcher of its own). */
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
    case 'OAUTHBEARER': {
      const tokens = tokenSourceFor(s);
      // kafkajs asks at each connection's authentication; the source hands out its cached token until near expiry.
      sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await tokens.token()).value }) };
      break;
    }
  }
  return ssl ? { ssl, sasl } : { sasl };
}

/** A JAAS option value: quoted, with `\` and `"` escaped. */
function jaasQuote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The librdkafka OIDC settings the Java login module names differently. */
const JAVA_OIDC_OPTIONS: Record<string, string> = {
  'sasl.oauthbearer.client.id': 'clientId',
  'sasl.oauthbearer.client.secret': 'clientSecret',
  'sasl.oauthbearer.scope': 'scope',
};

/**
 * Java client properties (Kafka Connect worker and its connectors' clients):
 * the same settings as the JS clients, in the Java spelling. PEM files are
 * used as they are (Java reads PEM trust stores and, inline, PKCS#8 keys);
 * OAUTHBEARER only with librdkafka's `oidc` method (client credentials),
 * which Java's OAuthBearerLoginCallbackHandler also implements.
 */
export function javaClientSecurity(s: KafkaSecurity = clientSecurity()): Record<string, string> {
  const out: Record<string, string> = { 'security.protocol': s.protocol };
  if (s.protocol.startsWith('SASL_')) {
    out['sasl.mechanism'] = s.saslMechanism;
    if (s.saslMechanism === 'OAUTHBEARER') {
      if ((s.oauthbearer['sasl.oauthbearer.method'] ?? '').toLowerCase() !== 'oidc')
        throw new Error('Kafka Connect (Java) takes OAUTHBEARER only as sasl.oauthbearer.method "oidc" (client credentials from a token endpoint)');
      if ((s.oauthbearer['sasl.oauthbearer.grant.type'] ?? 'client_credentials') !== 'client_credentials')
        throw new Error('Kafka Connect (Java) is given OAUTHBEARER client credentials only; the JWT bearer grant is librdkafka-only here');
      const url = s.oauthbearer['sasl.oauthbearer.token.endpoint.url'];
      if (!url) throw new Error('OAUTHBEARER oidc needs sasl.oauthbearer.token.endpoint.url');
      out['sasl.oauthbearer.token.endpoint.url'] = url;
      out['sasl.login.callback.handler.class'] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';
      const options = Object.entries(JAVA_OIDC_OPTIONS)
        .filter(([k]) => s.oauthbearer[k] !== undefined)
        .map(([k, name]) => ` ${name}=${jaasQuote(s.oauthbearer[k]!)}`)
        .join('');
      out['sasl.jaas.config'] = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required${options};`;
    } else {
      const module = s.saslMechanism === 'PLAIN' ? 'plain.PlainLoginModule' : 'scram.ScramLoginModule';
      out['sasl.jaas.config'] =
        `org.apache.kafka.common.security.${module} required username=${jaasQuote(s.username ?? '')} password=${jaasQuote(s.password ?? '')};`;
    }
  }
  if (s.protocol.endsWith('SSL')) {
    if (s.caFile) {
      out['ssl.truststore.type'] = 'PEM';
      out['ssl.truststore.location'] = s.caFile;
    }
    if (s.certFile && s.keyFile) {
      // Java's PEM keystore wants one PKCS#8 key (encrypted with ssl.key.password, if any) and the chain.
      const key = createPrivateKey({ key: readFileSync(s.keyFile), passphrase: s.keyPassword });
      out['ssl.keystore.type'] = 'PEM';
      out['ssl.keystore.certificate.chain'] = readFileSync(s.certFile, 'utf8').trim();
      out['ssl.keystore.key'] = String(
        s.keyPassword !== undefined
          ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: s.keyPassword })
          : key.export({ type: 'pkcs8', format: 'pem' }),
      ).trim();
      if (s.keyPassword !== undefined) out['ssl.key.password'] = s.keyPassword;
    }
    // Empty turns the host name check off in Java clients.
    out['ssl.endpoint.identification.algorithm'] = s.verifyHostname ? 'https' : '';
  }
  return out;
}

/** Lines of a Java .properties file (`\`, line breaks and leading blanks of values escaped), each key under every prefix. */
export function javaProperties(props: Record<string, string>, prefixes: readonly string[] = ['']): string {
  const esc = (v: string) =>
    v
      .replace(/\\/g, '\\\\')
      .replace(/\r?\n/g, '\\n')
      .replace(/^\s/, (c) => `\\${c}`);
  return prefixes.flatMap((p) => Object.entries(props).map(([k, v]) => `${p}${k}=${esc(v)}`)).join('\n');
}
