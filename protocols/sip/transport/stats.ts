// Counters a SIP transport keeps; bad input is counted by decoder reason
// (`sip.malformed`, `sip.truncated`…) like the taps count theirs.

export interface SipTransportStats {
  received: { udp: number; tcp: number; tls: number };
  sent: { udp: number; tcp: number; tls: number };
  /** Messages the parser refused, by `${layer}.${reason}`. */
  malformed: Record<string, number>;
  /** Malformed requests we could still answer with 400. */
  badRequestsAnswered: number;
  /** Messages over the size limit (answered 513 when they are requests we can answer). */
  tooLarge: number;
  /** TCP connections closed because their framing was lost (conflicting Content-Lengths, a message over the limit). */
  tcpFramingClosed: number;
  /** Messages dropped because their source exceeded its rate (sourceLimits.ts). */
  rateLimited: number;
  /** Accepted TCP connections closed at once by a cap: `per-source`, `total`. */
  tcpConnectionsRefused: Record<string, number>;
  /** TCP connections closed because a message did not arrive whole within the read timeout. */
  tcpSlowClosed: number;
  /** CRLF keep-alives and empty datagrams (RFC 5626 §3.5.1). */
  keepAlives: number;
  tcpConnectionsOpened: number;
  tcpConnectionsAccepted: number;
  tcpConnectionsIdleClosed: number;
  /** Outgoing TCP connections not established within the connect timeout. */
  tcpConnectTimeouts: number;
  /** Exceptions thrown by the message handler (the transport keeps running). */
  handlerErrors: number;
  /** SIP over TLS (tlsTransport.ts): connections accepted (handshake done) and opened, closed when idle. */
  tlsConnectionsAccepted: number;
  tlsConnectionsOpened: number;
  tlsConnectionsIdleClosed: number;
  /** TLS handshakes that failed (refused clients, untrusted or misnamed servers), by error code. */
  tlsHandshakeFailures: Record<string, number>;
}

export function emptyTransportStats(): SipTransportStats {
  return {
    received: { udp: 0, tcp: 0, tls: 0 },
    sent: { udp: 0, tcp: 0, tls: 0 },
    malformed: {},
    badRequestsAnswered: 0,
    tooLarge: 0,
    tcpFramingClosed: 0,
    rateLimited: 0,
    tcpConnectionsRefused: {},
    tcpSlowClosed: 0,
    keepAlives: 0,
    tcpConnectionsOpened: 0,
    tcpConnectionsAccepted: 0,
    tcpConnectionsIdleClosed: 0,
    tcpConnectTimeouts: 0,
    handlerErrors: 0,
    tlsConnectionsAccepted: 0,
    tlsConnectionsOpened: 0,
    tlsConnectionsIdleClosed: 0,
    tlsHandshakeFailures: {},
  };
}
