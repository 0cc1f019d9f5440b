// HEP v1/v2/v3 (Homer) capture encapsulation.
export { encodeHep3 } from './encode.ts';
export { HEP_PROTO } from './chunkTypes.ts';
