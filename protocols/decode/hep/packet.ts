// The decoded form of one HEP packet (any version), as handed to the next layer.

export interface HepPacket {
  readonly version: 1 | 2 | 3;
  readonly ipFamily: 4 | 6;
  /** IP protocol number of the captured packet: 17 UDP, 6 TCP, 132 SCTP. */
  readonly ipProtocol: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Capture time (Unix epoch, ns); 0n when the packet carries none (HEP v1). */
  readonly timeNs: bigint;
  /** Captured protocol type (chunk 0x000b, HEP_PROTO): 1 SIP, 8 M2UA, 9 M3UA ... (v1/v2: 1, SIP). */
  readonly protoType: number;
  readonly captureId?: number;
  readonly authKey?: string;
  readonly correlationId?: string;
  readonly vlanId?: number;
  /** Whether the payload arrived in the compressed chunk (0x0010) and was inflated. */
  readonly compressed?: boolean;
  readonly payload: Buffer;
}
