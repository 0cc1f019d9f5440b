// SIP over TLS (RFC 3261 §18.3, §26.2; RFC 5630): the TLS side of SipTransport.
// It only makes TLS sockets — a listener on its own port (default 5061) and
// outgoing connections — and SipTransport frames, limits and reuses them
// exactly as it does TCP connections (a TLSSocket is a net.Socket). Peers are
// never unverified: an outgoing connection whose server certificate does not
// chain to the configured CA (else Node's root store) or does not name the host
// dialled fails, and the writes queued on it fail with it; with a client CA the
// listener refuses clients without a certificate that CA signed.
import cluster from 'node:cluster';
import { isIP } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { endpointKey, type TransportTarget } from './types.ts';
import { CertificateReloader, type CertificateReload } from '../../tls/certificateReloader.ts';

/** §19.1.2 / RFC 3263: the default port of sips: URIs and of transport=tls. */
export const DEFAULT_SIPS_PORT = 5061;

/** PEM contents, not paths (config/sipTlsFiles.ts reads the files). */
export interface SipTlsOptions {
  /** Our certificate chain and key: needed to listen; also presented as a client certificate when a server asks. */
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  /** Port of the TLS listener (0 picks one). Absent: no listener (a client only, e.g. the notify sink). */
  readonly port?: number;
  /** Listener: require a client certificate signed by one of these CAs (mutual TLS). Absent: none asked. */
  readonly clientCa?: Buffer | string;
  /** Outgoing: CAs the servers' certificates must chain to. Absent: Node's default root store. */
  readonly serverCa?: Buffer | string;
  /** The files the PEMs came from: looked at every `reloadIntervalMs` (and on SIGHUP), a renewed pair taken without a restart (protocols/tls/certificateReloader.ts). */
  readonly reload?: CertificateReload;
}

interface TlsCounters {
  tlsConnectionsOpened: number;
  tcpConnectTimeouts: number;
  /** Handshakes that failed, by OpenSSL/Node error code (an untrusted client certificate, a misnamed server…). */
  tlsHandshakeFailures: Record<string, number>;
}

function failureCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message.slice(0, 60) : 'unknown';
}

export class TlsTransport {
  private boundPort = 0;

  private constructor(
    private readonly options: SipTlsOptions,
    private readonly server: Server | undefined,
    private readonly counters: TlsCounters,
  ) {}

  /** The listener's port; 0 without one. */
  get port(): number {
    return this.boundPort;
  }

  /** Starts the listener when options.port is given (certificate and key required then); `onSocket` gets each handshaken client. */
  static async start(host: string, options: SipTlsOptions, counters: TlsCounters, onSocket: (socket: TLSSocket) => void): Promise<TlsTransport> {
    if (options.port === undefined) return new TlsTransport(options, undefined, counters);
    if (!options.cert || !options.key) throw new Error('a SIP TLS listener needs a certificate and its key');
    const mutual = options.clientCa !== undefined;
    const server = createServer({
      cert: options.cert,
      key: options.key,
      minVersion: 'TLSv1.2',
      ...(mutual ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    });
    const t = new TlsTransport(options, server, counters);
    server.on('secureConnection', onSocket);
    // A client failing the handshake (no or an untrusted certificate, no common version) is refused here, counted.
    server.on('tlsClientError', (err) => t.countFailure(err));
    server.on('error', () => {}); // accept() failures must not crash; the server keeps listening
    t.boundPort = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      // Shared with the other workers of `run sip-front --workers N` (node:cluster), as the UDP and TCP listeners are.
      server.listen({ host, port: options.port, exclusive: !cluster.isWorker }, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
    if (options.reload)
      new CertificateReloader(server, options.reload.files, { what: `SIP TLS ${host}:${t.boundPort}`, intervalMs: options.reload.intervalMs });
    return t;
  }

  /**
   * An outgoing TLS connection and when it is verified. Write only after `secured`
   * resolves: bytes written earlier could leave before Node has checked the
   * server's certificate. It rejects (and the socket closes) on a failed
   * verification, a connect error or connectTimeoutMs without a handshake.
   */
  connect(target: TransportTarget, connectTimeoutMs: number): { socket: TLSSocket; secured: Promise<void> } {
    const o = this.options;
    const socket = connect({
      host: target.host,
      port: target.port,
      // SNI only for names (RFC 6066 §3); an IP address is checked against the certificate's IP SANs.
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      ...(o.serverCa !== undefined ? { ca: o.serverCa } : {}),
      ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
    });
    this.counters.tlsConnectionsOpened++;
    const timer = setTimeout(() => {
      this.counters.tcpConnectTimeouts++;
      socket.destroy(new Error(`TLS connect to ${endpointKey(target.host, target.port)} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    let isSecured = false;
    const secured = new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => {
        isSecured = true;
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`TLS connection to ${endpointKey(target.host, target.port)} closed before its handshake`));
      });
      socket.once('error', (err) => {
        // A handshake failure (untrusted or misnamed certificate…), not a socket error (ECONNREFUSED…) or our timeout.
        const code = (err as { code?: unknown }).code;
        if (!isSecured && typeof code === 'string' && !/^E[A-Z]+$/.test(code)) this.countFailure(err);
        reject(err);
      });
    });
    secured.catch(() => {}); // the senders awaiting it get the error
    return { socket, secured };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private countFailure(err: unknown): void {
    const code = failureCode(err);
    this.counters.tlsHandshakeFailures[code] = (this.counters.tlsHandshakeFailures[code] ?? 0) + 1;
  }
}
