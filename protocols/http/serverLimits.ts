// One HTTP(S) server factory for every API: header size, header and request
// timeouts (Node answers a slow client with 408 and closes), and HTTPS when a
// certificate and key are given. Body size is the handlers' (readBody).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { CertificateReloader } from '../tls/certificateReloader.ts';
import { privateKeyPem } from '../tls/privateKey.ts';

export interface HttpLimits {
  /** Largest request header block in bytes (431 past it). */
  maxHeaderBytes?: number;
  /** Time to receive the whole header block. */
  headersTimeoutMs?: number;
  /** Time to receive the whole request, body included. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs?: number;
  /** Seconds between looks at the certificate files (a renewed pair is taken without a restart); 0: only on SIGHUP. Default 60. */
  tlsReloadIntervalS?: number;
  /** PEM files; both given: HTTPS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** The key file's passphrase when it is encrypted. */
  tlsKeyPassphrase?: string;
  /** PEM CA(s): with HTTPS, every client must present a certificate they signed (mutual TLS), refused at the handshake otherwise. */
  tlsClientCaFile?: string;
}

export const DEFAULT_LIMITS = { maxHeaderBytes: 16 * 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

export function createApiServer(handler: http.RequestListener, limits: HttpLimits = {}): http.Server {
  const l = { ...DEFAULT_LIMITS, ...limits };
  if (l.headersTimeoutMs > l.requestTimeoutMs) l.headersTimeoutMs = l.requestTimeoutMs;
  const options: http.ServerOptions = {
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // Node checks the two timeouts on this interval (30 s by default): check often enough to honour short limits.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
  };
  if (Boolean(l.tlsCertFile) !== Boolean(l.tlsKeyFile)) throw new Error('HTTPS needs both a certificate file and a key file');
  if (l.tlsClientCaFile && !l.tlsCertFile) throw new Error('a client CA (mutual TLS) needs HTTPS: a certificate file and a key file');
  if (l.tlsCertFile && l.tlsKeyFile) {
    const mutual = l.tlsClientCaFile ? { ca: readFileSync(l.tlsClientCaFile), requestCert: true, rejectUnauthorized: true } : {};
    const passphrase = { keyPassphrase: l.tlsKeyPassphrase, keyPassphraseSetting: 'PRESENCE_HTTP_TLS_KEY_PASSPHRASE' };
    const key = privateKeyPem(readFileSync(l.tlsKeyFile), {
      keyFile: l.tlsKeyFile,
      passphrase: passphrase.keyPassphrase,
      passphraseSetting: passphrase.keyPassphraseSetting,
    });
    const server = https.createServer({ ...options, cert: readFileSync(l.tlsCertFile), key, ...mutual }, handler);
    // A renewed certificate is taken without a restart (and on SIGHUP).
    new CertificateReloader(
      server,
      {
        certFile: l.tlsCertFile,
        keyFile: l.tlsKeyFile,
        ...(l.tlsClientCaFile ? { clientCaFile: l.tlsClientCaFile } : {}),
        ...(l.tlsKeyPassphrase !== undefined ? { keyPassphrase: l.tlsKeyPassphrase } : {}),
        keyPassphraseSetting: passphrase.keyPassphraseSetting,
      },
      { what: 'HTTPS', intervalMs: (l.tlsReloadIntervalS ?? 60) * 1000 },
    );
    return server as unknown as http.Server;
  }
  return http.createServer(options, handler);
}

export function listen(server: http.Server, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
