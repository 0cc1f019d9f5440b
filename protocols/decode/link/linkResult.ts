// What a link-layer decoder hands on: the EtherType of the payload and where it starts.

export interface LinkResult {
  /** EtherType (or ETHERTYPE_LLC) of the payload. */
  etherType: number;
  /** Offset of the payload in the buffer. */
  offset: number;
  /** VLAN ids met on the way, outermost first (empty when untagged). */
  vlans: number[];
}
