// Where a response goes (RFC 3261 §18.2.2 with RFC 3581 §4), from the request's
// top Via (already stamped by stampReceived) and the packet source.
import type { Via } from '../../decode/sip/index.ts';
import { DEFAULT_SIPS_PORT } from './tlsTransport.ts';
import { isReliable, type MessageSource, type TransportTarget } from './types.ts';

/** §18.2.2 / §19.1.2: the default SIP port for UDP and TCP. */
export const DEFAULT_SIP_PORT = 5060;

export interface ResponseRoute {
  /** Try first: for TCP and TLS the connection the request arrived on (send with reuseOnly). */
  readonly primary: TransportTarget;
  /** TCP and TLS only: a new connection to received/sent-by when the original one is gone. */
  readonly fallback?: TransportTarget;
}

export function responseTarget(topVia: Via | undefined, source: MessageSource): ResponseRoute {
  const fromSource: TransportTarget = { transport: source.transport, host: source.address, port: source.port };
  if (!topVia) return { primary: fromSource };
  if (isReliable(source.transport)) {
    const defaultPort = source.transport === 'tls' ? DEFAULT_SIPS_PORT : DEFAULT_SIP_PORT;
    return {
      primary: fromSource,
      fallback: { transport: source.transport, host: topVia.received ?? topVia.host, port: topVia.port ?? defaultPort },
    };
  }
  // Unreliable: received (or sent-by host) and rport when present, else sent-by port.
  // maddr (multicast) is not supported: presence peers do not use it.
  const port = typeof topVia.rport === 'number' ? topVia.rport : topVia.rport === null ? source.port : (topVia.port ?? DEFAULT_SIP_PORT);
  return { primary: { transport: 'udp', host: topVia.received ?? topVia.host, port } };
}
