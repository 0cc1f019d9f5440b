// SCTP chunk types (RFC 9260 §3.2, RFC 8260 for I-DATA, RFC 4895 AUTH, RFC 5061 ASCONF, RFC 3758 FORWARD-TSN).

export const SCTP_CHUNK = {
  data: 0,
  init: 1,
  initAck: 2,
  sack: 3,
  heartbeat: 4,
  heartbeatAck: 5,
  abort: 6,
  shutdown: 7,
  shutdownAck: 8,
  error: 9,
  cookieEcho: 10,
  cookieAck: 11,
  ecne: 12,
  cwr: 13,
  shutdownComplete: 14,
  auth: 15,
  iData: 64,
  asconfAck: 128,
  reconfig: 130,
  pad: 132,
  forwardTsn: 192,
  asconf: 193,
  iForwardTsn: 194,
} as const;

/** DATA chunk flag bits. */
export const SCTP_DATA_FLAG = {
  end: 0x01,
  begin: 0x02,
  unordered: 0x04,
  immediate: 0x08,
} as const;
