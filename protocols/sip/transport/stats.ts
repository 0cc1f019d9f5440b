// Counters a SIP transport keeps; bad input is counted by decoder reason
// (`sip.malformed`, `sip.truncated`…) like the taps count theirs.

export interface SipTransportStats {
  received: { udp: number; tcp: number };
  sent: { udp: number; tcp: number };
  /** Messages the parser refused, by `${layer}.${reason}`. */
  malformed: Record<string, number>;
  /** Malformed requests we could still answer with 400. */
  badRequestsAnswered: number;
  /** CRLF keep-alives and empty datagrams (RFC 5626 §3.5.1). */
  keepAlives: number;
  tcpConnectionsOpened: number;
  tcpConnectionsAccepted: number;
  tcpConnectionsIdleClosed: number;
  /** Exceptions thrown by the message handler (the transport keeps running). */
  handlerErrors: number;
}

export function emptyTransportStats(): SipTransportStats {
  return {
    received: { udp: 0, tcp: 0 },
    sent: { udp: 0, tcp: 0 },
    malformed: {},
    badRequestsAnswered: 0,
    keepAlives: 0,
    tcpConnectionsOpened: 0,
    tcpConnectionsAccepted: 0,
    tcpConnectionsIdleClosed: 0,
    handlerErrors: 0,
  };
}
