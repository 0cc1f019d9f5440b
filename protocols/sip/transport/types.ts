// Addresses as the transport sees them: where a message came from (to answer
// it, RFC 3261 §18.2.2) and where one is to be sent.

export type SipTransportName = 'udp' | 'tcp' | 'tls';

/** The stream transports: SIP framed on a connection (RFC 3261 §18.3), TLS being TCP underneath. */
export type StreamTransportName = 'tcp' | 'tls';

export interface TransportTarget {
  readonly transport: SipTransportName;
  readonly host: string;
  readonly port: number;
}

/** Packet source of an incoming message (for TCP and TLS: the connection's remote end). */
export interface MessageSource {
  readonly transport: SipTransportName;
  readonly address: string;
  readonly port: number;
  /**
   * TLS with a client certificate verified against the listener's client CA: the names it
   * certifies (DNS subjectAltNames, else its CN), lower-cased. Absent otherwise.
   */
  readonly peerNames?: readonly string[];
}

export interface SendOptions {
  /**
   * TCP and TLS: write only on an existing connection, never open one. Responses
   * use it first, because a connection the client opened is the one it reads.
   */
  readonly reuseOnly?: boolean;
}

/** Reliable transports get no retransmissions and zero Timer J/K (§17.1.2.2, §17.2.2). */
export function isReliable(transport: SipTransportName): boolean {
  return transport === 'tcp' || transport === 'tls';
}

/** Map key for a remote end: host:port with IPv6 bracketed. */
export function endpointKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; answer them as IPv4. */
export function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
