// Entry point of the SS7 stack: an SCTP user message (by PPID) down through
// M3UA or M2PA/MTP3, to SCCP → TCAP → GSM MAP, or to ISUP. Returns one
// message per MAP component or ISUP message, each with the MTP routing label
// and SCCP addresses, so a tap can key presence and correlation on them.
// Management traffic (M3UA ASPSM/ASPTM/MGMT/SSNM, M2PA link status, MTP3
// SI 0-2) is counted in `stats` and skipped.
import { DecodeError } from './layer.ts';
import { decodeM3ua } from './m3ua/m3ua.ts';
import { decodeM2pa } from './m2pa/m2pa.ts';
import { SI_ISUP, SI_SCCP, SI_SNM, SI_SNT, SI_SNT_SPECIAL, type Mtp3Transfer } from './mtp3/mtp3.ts';
import { decodeSccp, type SccpMessage } from './sccp/sccp.ts';
import type { SccpAddress } from './sccp/address.ts';
import { SCCP_RETURN_CAUSES } from './sccp/messageTypes.ts';
import { SccpReassembler, type ReassemblyOptions } from './sccp/reassembly.ts';
import { decodeTcap, type TcapMessage } from './tcap/tcap.ts';
import { TCAP_MESSAGE_TYPES } from './tcap/tags.ts';
import { decodeMapComponent, type MapComponent } from './map/map.ts';
import { decodeIsup, type IsupMessage } from './isup/isup.ts';

export const PPID_M3UA = 3;
export const PPID_M2PA = 5;

/**
 * SSNs that carry MAP (3GPP TS 23.003 §8.2): used to recognise MAP when a
 * TCAP message has no dialogue portion (Continue/End after the first, MAP v1).
 */
export const MAP_SSNS: ReadonlySet<number> = new Set([5, 6, 7, 8, 9, 10, 145, 147, 149, 150]);

export interface Ss7Message {
  protocol: 'map' | 'isup' | 'tcap' | 'sccp';
  frame: number;
  timeNs: bigint;
  opc: number;
  dpc: number;
  si: number;
  ni: number;
  sls: number;
  sccp?: {
    type: string;
    called: SccpAddress;
    calling: SccpAddress;
    /** Set on UDTS/XUDTS/LUDTS: the data is a returned (undelivered) message. */
    returnCause?: string;
  };
  tcap?: {
    type: 'begin' | 'continue' | 'end' | 'abort' | 'unidirectional';
    otid?: string;
    dtid?: string;
    appContext?: string;
    appContextOid?: string;
    abortCause?: string;
  };
  map?: MapComponent;
  /** A non-MAP TCAP component (e.g. CAP): kind and codes only. */
  component?: { kind: string; invokeId?: number; opCode?: number; errorCode?: number };
  isup?: IsupMessage;
  /** The component's parameter could not be decoded (`layer.reason`); names and ids are still valid. */
  paramError?: string;
}

export interface Ss7DissectorOptions {
  reassembly?: ReassemblyOptions;
}

export class Ss7Dissector {
  /** Counters of skipped and partial input, by `layer.what`. */
  readonly stats: Record<string, number> = Object.create(null);
  readonly reassembler: SccpReassembler;

  constructor(opts: Ss7DissectorOptions = {}) {
    this.reassembler = new SccpReassembler(opts.reassembly);
  }

  private count(key: string): void {
    this.stats[key] = (this.stats[key] ?? 0) + 1;
  }

  decode(payload: Buffer, ppid: number, meta: { timeNs: bigint; frame: number }): Ss7Message[] {
    let transfer: Mtp3Transfer;
    if (ppid === PPID_M3UA) {
      const m = decodeM3ua(payload);
      if (m.kind !== 'data') {
        this.count(`m3ua.${m.className}.${m.typeName}`);
        return [];
      }
      transfer = m.transfer;
    } else if (ppid === PPID_M2PA) {
      const m = decodeM2pa(payload);
      if (m.kind !== 'data') {
        this.count(`m2pa.${m.typeName}`);
        return [];
      }
      transfer = m.transfer;
    } else {
      throw new DecodeError('sctp', 'unsupported', `PPID ${ppid}`);
    }
    switch (transfer.si) {
      case SI_SCCP:
        return this.sccp(transfer, meta);
      case SI_ISUP:
        return [{ ...routing(transfer, meta), protocol: 'isup', isup: decodeIsup(transfer.data) }];
      case SI_SNM:
      case SI_SNT:
      case SI_SNT_SPECIAL:
        this.count(`mtp3.management.si${transfer.si}`);
        return [];
      default:
        throw new DecodeError('mtp3', 'unsupported', `service indicator ${transfer.si}`);
    }
  }

  private sccp(transfer: Mtp3Transfer, meta: { timeNs: bigint; frame: number }): Ss7Message[] {
    const s = decodeSccp(transfer.data);
    const base = routing(transfer, meta);
    const sccpInfo: NonNullable<Ss7Message['sccp']> = { type: s.typeName, called: s.called, calling: s.calling };
    if (s.returnCause !== undefined) sccpInfo.returnCause = SCCP_RETURN_CAUSES[s.returnCause] ?? `cause${s.returnCause}`;
    let data = s.data;
    if (s.segmentation) {
      if (s.returnCause !== undefined) {
        // Returned segments are not reassembled (Q.714 returns at most the
        // first segment's data); report the return itself.
        this.count('sccp.returnedSegment');
        return [{ ...base, protocol: 'sccp', sccp: sccpInfo }];
      }
      const whole = this.reassembler.add(transfer.opc, s.callingRaw, s.segmentation, s.data, meta.timeNs);
      if (!whole) {
        this.count('sccp.segment');
        return [];
      }
      data = whole;
    }
    if (data.length === 0 || !TCAP_MESSAGE_TYPES[data[0]!]) {
      throw new DecodeError('sccp', 'unsupported', `user data is not TCAP (SSN ${s.called.ssn ?? '-'})`);
    }
    const t = decodeTcap(data);
    const tcapInfo = tcapSummary(t);
    base.sccp = sccpInfo;
    base.tcap = tcapInfo;
    const isMap = t.appContextOid !== undefined ? t.mapVersion !== undefined : isMapSsn(s);
    if (t.components.length === 0) return [{ ...base, protocol: 'tcap' }];
    const out: Ss7Message[] = [];
    for (const c of t.components) {
      if (!isMap) {
        const comp: NonNullable<Ss7Message['component']> = { kind: c.kind };
        if (c.invokeId !== undefined) comp.invokeId = c.invokeId;
        if (c.opCode !== undefined) comp.opCode = c.opCode;
        if (c.errorCode !== undefined) comp.errorCode = c.errorCode;
        out.push({ ...base, protocol: 'tcap', component: comp });
        continue;
      }
      const msg: Ss7Message = { ...base, protocol: 'map' };
      try {
        msg.map = decodeMapComponent(c, t.mapVersion);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        // Keep the component (operation, ids) and flag the parameter.
        const stripped = { ...c };
        delete stripped.param;
        msg.map = decodeMapComponent(stripped, t.mapVersion);
        msg.paramError = `${err.layer}.${err.reason}`;
        this.count(msg.paramError);
      }
      out.push(msg);
    }
    return out;
  }
}

function routing(t: Mtp3Transfer, meta: { timeNs: bigint; frame: number }): Ss7Message {
  return { protocol: 'sccp', frame: meta.frame, timeNs: meta.timeNs, opc: t.opc, dpc: t.dpc, si: t.si, ni: t.ni, sls: t.sls };
}

function tcapSummary(t: TcapMessage): NonNullable<Ss7Message['tcap']> {
  const s: NonNullable<Ss7Message['tcap']> = { type: t.type };
  if (t.otid !== undefined) s.otid = t.otid;
  if (t.dtid !== undefined) s.dtid = t.dtid;
  if (t.appContext !== undefined) s.appContext = t.appContext;
  if (t.appContextOid !== undefined) s.appContextOid = t.appContextOid;
  if (t.abortCause !== undefined) s.abortCause = t.abortCause;
  return s;
}

function isMapSsn(s: SccpMessage): boolean {
  return (s.called.ssn !== undefined && MAP_SSNS.has(s.called.ssn)) || (s.calling.ssn !== undefined && MAP_SSNS.has(s.calling.ssn));
}
