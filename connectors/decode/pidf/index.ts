// Presence bodies: PIDF / RFC 4479 data model / RPID, multipart and RLMI.
export type * from './model.ts';
export { parsePidf } from './parse.ts';
export { parseMultipart, type MimePart } from './multipart.ts';
export { parseRlmi, type RlmiList, type RlmiResource, type RlmiInstance } from './rlmi.ts';
export { parsePresenceBody, type PresenceBody, type PresenceBodyPart } from './body.ts';
