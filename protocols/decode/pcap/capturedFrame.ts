// One record out of a capture file, before any protocol decoding.

export interface CapturedFrame {
  /** 1-based position in the file, as tshark's frame.number. */
  index: number;
  /** Capture time, nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** LINKTYPE_* of the interface that captured the frame (see link/linkTypes.ts). */
  linkType: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
  /** Captured bytes; a view into the reader's chunk, so copy it if kept long. */
  data: Buffer;
  /** Length on the wire; larger than data.length when the capture was snapped. */
  origLength: number;
}
