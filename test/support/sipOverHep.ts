// A HEP3 datagram carrying one SIP message, as Kamailio's siptrace or heplify
// sends it (UDP, IPv4, 192.0.2.10:5060 → 198.51.100.5:5060), packet `i` a
// millisecond after the one before — for the HEP tap's tests.
import { encodeHep3 } from '../../protocols/decode/hep/index.ts';
import { HEP_PROTO } from '../../protocols/decode/hep/chunkTypes.ts';

export const HEP_T0_NS = 1_764_000_000_000_000_000n;

export function sipOverHep(payload: Buffer, i: number, o: { captureId?: number; authKey?: string } = {}): Buffer {
  return encodeHep3({
    ipFamily: 4,
    ipProtocol: 17,
    src: '192.0.2.10',
    dst: '198.51.100.5',
    srcPort: 5060,
    dstPort: 5060,
    timeNs: HEP_T0_NS + BigInt(i) * 1_000_000n,
    protoType: HEP_PROTO.SIP,
    captureId: o.captureId ?? 7,
    ...(o.authKey !== undefined ? { authKey: o.authKey } : {}),
    payload,
  });
}

/** A REGISTER of `tel:<msisdnPrefix><i>` (Call-ID and branch named by `tag` and i) in a HEP3 datagram. */
export function registerOverHep(i: number, o: { msisdnPrefix: string; tag: string; captureId?: number; authKey?: string }): Buffer {
  const sip = [
    'REGISTER sip:ims.example.net SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-${o.tag}${i}`,
    'Max-Forwards: 70',
    `From: <tel:${o.msisdnPrefix}${i}>;tag=f${i}`,
    `To: <tel:${o.msisdnPrefix}${i}>`,
    `Call-ID: reg-${o.tag}${i}@192.0.2.10`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${o.msisdnPrefix}${i}@192.0.2.10:5060>;expires=3600`,
    'Content-Length: 0',
  ].join('\r\n');
  return sipOverHep(Buffer.from(`${sip}\r\n\r\n`), i, {
    ...(o.captureId !== undefined ? { captureId: o.captureId } : {}),
    ...(o.authKey !== undefined ? { authKey: o.authKey } : {}),
  });
}
