// The contract every protocol-layer decoder follows (Wireshark-dissector style):
// a layer parses its own header, then hands its payload to the next layer.
// Decoders never throw anything but DecodeError, so a tap can count bad input
// by layer and reason and keep the raw bytes in the dead-letter topic.

/** Why a layer refused its input; counted by `${layer}.${reason}`. */
type DecodeReason =
  | 'truncated' // fewer bytes than a header/length field says
  | 'malformed' // bytes present but inconsistent (bad length, bad tag, bad version)
  | 'unsupported' // well-formed but a variant we do not decode (yet)
  | 'unknown'; // an unrecognised message/operation code

export class DecodeError extends Error {
  constructor(
    readonly layer: string,
    readonly reason: DecodeReason,
    message: string,
  ) {
    super(`${layer}: ${reason}: ${message}`);
    this.name = 'DecodeError';
  }
}

/** Throws a truncated DecodeError unless `need` bytes are readable at `offset`. */
export function need(layer: string, buf: Uint8Array, offset: number, need: number, what: string): void {
  if (offset + need > buf.length) {
    throw new DecodeError(layer, 'truncated', `${what}: need ${need} bytes at ${offset}, have ${buf.length - offset}`);
  }
}
