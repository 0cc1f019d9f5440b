// M2PA (RFC 4165, SCTP PPID 5): common header (version, spare, class 11,
// type, length), BSN/FSN, then for User Data a priority octet followed by the
// MTP3 MSU. Link Status messages carry no user traffic.
import { DecodeError, need } from '../layer.ts';
import { decodeMtp3, type Mtp3Transfer } from '../mtp3/mtp3.ts';

const LAYER = 'm2pa';
const M2PA_CLASS = 11;
const HEADER = 8 + 8; // common header + BSN + FSN

export const M2PA_TYPES: Readonly<Record<number, string>> = { 1: 'userData', 2: 'linkStatus' };

export type M2paMessage = { kind: 'data'; transfer: Mtp3Transfer } | { kind: 'other'; typeName: string };

export function decodeM2pa(buf: Buffer): M2paMessage {
  need(LAYER, buf, 0, 8, 'common header');
  if (buf[0] !== 1) throw new DecodeError(LAYER, 'unsupported', `version ${buf[0]}`);
  if (buf[2] !== M2PA_CLASS) throw new DecodeError(LAYER, 'malformed', `message class ${buf[2]}`);
  const type = buf[3]!;
  const length = buf.readUInt32BE(4);
  if (length < HEADER) throw new DecodeError(LAYER, 'malformed', `message length ${length}`);
  if (length > buf.length) throw new DecodeError(LAYER, 'truncated', `message length ${length} > ${buf.length}`);
  const name = M2PA_TYPES[type];
  if (!name) throw new DecodeError(LAYER, 'unknown', `message type ${type}`);
  if (type !== 1) return { kind: 'other', typeName: name };
  // User Data with no MSU is an empty keep-alive/ack (RFC 4165 §4.2.1 allows it).
  if (length === HEADER) return { kind: 'other', typeName: 'emptyUserData' };
  return { kind: 'data', transfer: decodeMtp3(buf.subarray(HEADER + 1, length)) };
}
