// RFC 4666 §3.1.2-3.1.3 message classes and types, as data. The tap decodes
// only Transfer/DATA; the rest is named so it can be counted and skipped.
export const M3UA_CLASSES: Readonly<Record<number, { name: string; types: Readonly<Record<number, string>> }>> = {
  0: { name: 'mgmt', types: { 0: 'ERR', 1: 'NTFY' } },
  1: { name: 'transfer', types: { 1: 'DATA' } },
  2: { name: 'ssnm', types: { 1: 'DUNA', 2: 'DAVA', 3: 'DAUD', 4: 'SCON', 5: 'DUPU', 6: 'DRST' } },
  3: { name: 'aspsm', types: { 1: 'ASPUP', 2: 'ASPDN', 3: 'BEAT', 4: 'ASPUP_ACK', 5: 'ASPDN_ACK', 6: 'BEAT_ACK' } },
  4: { name: 'asptm', types: { 1: 'ASPAC', 2: 'ASPIA', 3: 'ASPAC_ACK', 4: 'ASPIA_ACK' } },
  9: { name: 'rkm', types: { 1: 'REG_REQ', 2: 'REG_RSP', 3: 'DEREG_REQ', 4: 'DEREG_RSP' } },
};

export const M3UA_CLASS_TRANSFER = 1;
export const M3UA_TYPE_DATA = 1;

/** RFC 4666 §3.3.1 parameter tags used inside DATA. */
export const M3UA_TAG_NETWORK_APPEARANCE = 0x0200;
export const M3UA_TAG_ROUTING_CONTEXT = 0x0006;
export const M3UA_TAG_PROTOCOL_DATA = 0x0210;
export const M3UA_TAG_CORRELATION_ID = 0x0013;

/**
 * draft-ietf-sigtran-m3ua-06 (pre-RFC, still met in old captures): the SS7
 * message is carried whole (SIO + routing label + SIF) in "Protocol Data 1",
 * or with a leading MTP2 LI octet in "Protocol Data 2". These tags are not
 * used by RFC 4666 inside DATA, which is how the two encodings are told apart.
 */
export const M3UA_DRAFT6_TAG_PROTOCOL_DATA_1 = 0x0002;
export const M3UA_DRAFT6_TAG_PROTOCOL_DATA_2 = 0x0003;
