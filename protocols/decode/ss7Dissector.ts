// Entry point of the SS7 stack: an SCTP user message (by PPID) down through
// M3UA or M2PA/MTP3, to SCCP → TCAP → GSM MAP, or to ISUP. Returns one
// message per MAP component or ISUP message, each with the MTP routing label
// and SCCP addresses, so a tap can key presence and correlation on them.
// Management traffic (M3UA ASPSM/ASPTM/MGMT/SSNM, M2PA link status, MTP3
// SI 0-2) is counted in `stats` and skipped.
import { DecodeError } from './layer.ts';
import * as m3ua from './m3ua/m3ua.ts';
import * as m2pa from './m2pa/m2pa.ts';
import * as mtp3 from './mtp3/mtp3.ts';
import * as sccp from './sccp/sccp.ts';
import * as tcap from './tcap/tcap.ts';
import * as tcapTags from './tcap/tags.ts';
import * as map from './map/map.ts';
import * as isup from './isup/isup.ts';
import type { Mtp3Transfer } from './mtp3/mtp3.ts';
import type { SccpMessage } from './sccp/sccp.ts';
import type { SccpAddress } from './sccp/address.ts';
import type { TcapMessage } from './tcap/tcap.ts';
import type { MapComponent } from './map/map.ts';
import type { IsupMessage } from './isup/isup.ts';
import { SCCP_RETURN_CAUSES } from './sccp/messageTypes.ts';
import { SccpReassembler, type ReassemblyOptions } from './sccp/reassembly.ts';

// Hot-path functions and tables bound to module locals once: under tsx every
// access to an imported binding goes through a getter, which shows in profiles.
const { decodeM3ua } = m3ua;
const { decodeM2pa } = m2pa;
const { SI_ISUP, SI_SCCP, SI_SNM, SI_SNT, SI_SNT_SPECIAL } = mtp3;
const { decodeSccp } = sccp;
const { decodeTcap } = tcap;
const { TCAP_MESSAGE_TYPES } = tcapTags;
const { decodeMapComponent } = map;
const { decodeIsup } = isup;

const PPID_UNSPECIFIED = 0;
export const PPID_M3UA = 3;
export const PPID_M2PA = 5;

/**
 * SSNs that carry MAP (3GPP TS 23.003 §8.2): used to recognise MAP when a
 * TCAP message has no dialogue portion (Continue/End after the first, MAP v1).
 */
const MAP_SSNS: ReadonlySet<number> = new Set([5, 6, 7, 8, 9, 10, 145, 147, 149, 150]);

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

interface Ss7DissectorOptions {
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
    if (ppid === PPID_UNSPECIFIED && payload.length >= 4 && payload[0] === 1) {
      // Some stacks send PPID 0; both adaptation layers start with version 1,
      // and M2PA alone uses message class 11.
      ppid = payload[2] === 11 ? PPID_M2PA : PPID_M3UA;
    }
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
      case SI_ISUP: {
        const m = message('isup', transfer, meta);
        m.isup = decodeIsup(transfer.data);
        return [m];
      }
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
    const sccpInfo: NonNullable<Ss7Message['sccp']> = { type: s.typeName, called: s.called, calling: s.calling };
    if (s.returnCause !== undefined) sccpInfo.returnCause = SCCP_RETURN_CAUSES[s.returnCause] ?? `cause${s.returnCause}`;
    let data = s.data;
    if (s.segmentation) {
      if (s.returnCause !== undefined) {
        // Returned segments are not reassembled (Q.714 returns at most the
        // first segment's data); report the return itself.
        this.count('sccp.returnedSegment');
        const m = message('sccp', transfer, meta);
        m.sccp = sccpInfo;
        return [m];
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
    const isMap = t.appContextOid !== undefined ? t.mapVersion !== undefined : isMapSsn(s);
    const n = t.components.length;
    const out: Ss7Message[] = [];
    if (n === 0) {
      const m = message('tcap', transfer, meta);
      m.sccp = sccpInfo;
      m.tcap = tcapInfo;
      out.push(m);
      return out;
    }
    for (let i = 0; i < n; i++) {
      const c = t.components[i]!;
      const m = message(isMap ? 'map' : 'tcap', transfer, meta);
      m.sccp = sccpInfo;
      m.tcap = tcapInfo;
      if (!isMap) {
        const comp: NonNullable<Ss7Message['component']> = { kind: c.kind };
        if (c.invokeId !== undefined) comp.invokeId = c.invokeId;
        if (c.opCode !== undefined) comp.opCode = c.opCode;
        if (c.errorCode !== undefined) comp.errorCode = c.errorCode;
        m.component = comp;
      } else {
        try {
          m.map = decodeMapComponent(c, t.mapVersion);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          // Keep the component (operation, ids) and flag the parameter.
          const stripped = { ...c };
          delete stripped.param;
          m.map = decodeMapComponent(stripped, t.mapVersion);
          m.paramError = `${err.layer}.${err.reason}`;
          this.count(m.paramError);
        }
      }
      out.push(m);
    }
    return out;
  }
}

/** A message with the routing label filled in; layers add their parts. Same shape every time (fast property access). */
function message(protocol: Ss7Message['protocol'], t: Mtp3Transfer, meta: { timeNs: bigint; frame: number }): Ss7Message {
  return { protocol, frame: meta.frame, timeNs: meta.timeNs, opc: t.opc, dpc: t.dpc, si: t.si, ni: t.ni, sls: t.sls };
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
