// HEP v1/v2/v3 (Homer) capture encapsulation.
export { decodeHep, isHep3 } from './decode.ts';
export { encodeHep3, type HepEncodeInput } from './encode.ts';
export { HepStreamFramer, type HepFramerStats } from './framer.ts';
export type { HepPacket } from './packet.ts';
export { HEP3_CHUNK_TYPES, HEP3_CHUNK, HEP_PROTOCOL_TYPES, HEP_PROTO, HEP_AF_INET, HEP_AF_INET6, type HepChunkTypeInfo } from './chunkTypes.ts';
