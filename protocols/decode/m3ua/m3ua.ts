// M3UA (RFC 4666, SCTP PPID 3): common header, then TLV parameters. Only
// Transfer/DATA carries SS7 user traffic; its Protocol Data parameter gives
// the MTP3 routing info and the user part payload (SI 3 SCCP, SI 5 ISUP).
import { DecodeError, need } from '../layer.ts';
import { decodeMtp3, type Mtp3Transfer } from '../mtp3/mtp3.ts';
import * as messageTypes from './messageTypes.ts';

// Imported tables bound to module locals once: under tsx every access to an
// imported binding goes through a getter, which shows in profiles.
const { M3UA_CLASSES, M3UA_CLASS_TRANSFER, M3UA_DRAFT6_TAG_PROTOCOL_DATA_1, M3UA_DRAFT6_TAG_PROTOCOL_DATA_2, M3UA_TAG_PROTOCOL_DATA, M3UA_TYPE_DATA } =
  messageTypes;

const LAYER = 'm3ua';

export type M3uaMessage = { kind: 'data'; transfer: Mtp3Transfer; draft6: boolean } | { kind: 'other'; className: string; typeName: string };

export function decodeM3ua(buf: Buffer): M3uaMessage {
  need(LAYER, buf, 0, 8, 'common header');
  const version = buf[0]!;
  if (version !== 1) throw new DecodeError(LAYER, 'unsupported', `version ${version}`);
  const msgClass = buf[2]!;
  const msgType = buf[3]!;
  const length = buf.readUInt32BE(4);
  if (length < 8) throw new DecodeError(LAYER, 'malformed', `message length ${length}`);
  if (length > buf.length) throw new DecodeError(LAYER, 'truncated', `message length ${length} > ${buf.length}`);
  if (msgClass !== M3UA_CLASS_TRANSFER || msgType !== M3UA_TYPE_DATA) {
    const cls = M3UA_CLASSES[msgClass];
    if (!cls) throw new DecodeError(LAYER, 'unknown', `message class ${msgClass}`);
    return { kind: 'other', className: cls.name, typeName: cls.types[msgType] ?? `type${msgType}` };
  }
  let off = 8;
  while (off + 4 <= length) {
    const tag = buf.readUInt16BE(off);
    const plen = buf.readUInt16BE(off + 2);
    if (plen < 4) throw new DecodeError(LAYER, 'malformed', `parameter 0x${tag.toString(16)} length ${plen}`);
    if (off + plen > length) throw new DecodeError(LAYER, 'truncated', `parameter 0x${tag.toString(16)} length ${plen}`);
    const vs = off + 4;
    const ve = off + plen;
    if (tag === M3UA_TAG_PROTOCOL_DATA) {
      if (plen < 16) throw new DecodeError(LAYER, 'malformed', `protocol data length ${plen}`);
      // OPC(4) DPC(4) SI NI MP SLS, then the user part (RFC 4666 §3.3.1.1).
      return {
        kind: 'data',
        draft6: false,
        transfer: {
          opc: buf.readUInt32BE(vs),
          dpc: buf.readUInt32BE(vs + 4),
          si: buf[vs + 8]!,
          ni: buf[vs + 9]!,
          mp: buf[vs + 10]!,
          sls: buf[vs + 11]!,
          data: buf.subarray(vs + 12, ve),
        },
      };
    }
    if (tag === M3UA_DRAFT6_TAG_PROTOCOL_DATA_1 || tag === M3UA_DRAFT6_TAG_PROTOCOL_DATA_2) {
      // Draft 6 carries a whole MTP3 MSU; Protocol Data 2 prefixes it with the MTP2 LI octet.
      const start = tag === M3UA_DRAFT6_TAG_PROTOCOL_DATA_2 ? vs + 1 : vs;
      return { kind: 'data', draft6: true, transfer: decodeMtp3(buf.subarray(start, ve), LAYER) };
    }
    off += (plen + 3) & ~3;
  }
  throw new DecodeError(LAYER, 'malformed', 'DATA without protocol data');
}
