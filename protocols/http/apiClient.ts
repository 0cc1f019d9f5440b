// A GET to another member's HTTP API (the locator asking a subscriber's
// owner), over HTTPS with the CA this process trusts and, where the APIs
// require mutual TLS, this process's own certificate. Node's fetch cannot
// present a client certificate without undici's Agent, so this is node:https.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { privateKeyPem } from '../tls/privateKey.ts';

/** PEM files: the CA trusted for the server, and this client's certificate and key for mutual TLS. */
export interface ClientTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The key file's passphrase when it is encrypted. */
  keyPassphrase?: string;
}

export interface ApiAnswer {
  readonly status: number;
  /** The parsed JSON body; {} when the body is not JSON. */
  readonly body: Record<string, unknown>;
}

/** Largest answer read (a subscriber view); past it the request fails rather than buffering without bound. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * One GET; the timeout covers the whole exchange (a request queued for a
 * socket of `agent` included) and rejects with a TimeoutError.
 */
export function apiGet(url: string, o: { headers?: Record<string, string>; timeoutMs: number; tls?: ClientTlsFiles; agent?: http.Agent }): Promise<ApiAnswer> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const tls = o.tls ?? {};
  if (!secure && (tls.certFile || tls.keyFile)) throw new Error(`${url}: a client certificate is configured but the API is plain HTTP`);
  const options: https.RequestOptions = {
    method: 'GET',
    headers: { accept: 'application/json', ...o.headers },
    signal: AbortSignal.timeout(o.timeoutMs),
    ...(o.agent ? { agent: o.agent } : {}),
    ...(secure && tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(secure && tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(secure && tls.keyFile
      ? {
          key: privateKeyPem(readFileSync(tls.keyFile), {
            keyFile: tls.keyFile,
            passphrase: tls.keyPassphrase,
            passphraseSetting: 'PRESENCE_HTTP_CLIENT_KEY_PASSPHRASE',
          }),
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`${url}: answer larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // Not JSON (a proxy's error page): the status says what happened.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
