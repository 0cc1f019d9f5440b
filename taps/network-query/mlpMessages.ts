// OMA MLP 3.x (OMA-TS-MLP) standard location immediate service: the SLIR we
// send and the SLIA we read. Only what presence needs: one MSISDN, requested
// horizontal accuracy and maximum age, CURRENT_OR_LAST; answers as a Point
// or a CircularArea in WGS 84 (EPSG 4326), coordinates either in MLP's
// "DD MM SS.SSS[NSEW]" form or decimal degrees, time "YYYYMMDDhhmmss" with
// its utc_off. Errors are MLP result codes (resid), per position or for the
// whole request.
import { xmlEscape } from '../../presence-document/render.ts';
import { attr, child, children, parseXml, text } from '../../presence-document/xml.ts';
import { failed, type QueryFailureReason, type QueryOutcome } from './networkQuery.ts';

export interface SlirRequest {
  readonly clientId: string;
  readonly password: string | null;
  /** Digits of the MSISDN, international form without '+'. */
  readonly msisdn: string;
  /** Requested horizontal accuracy, meters. */
  readonly horizontalAccuracyM: number;
  /** Oldest acceptable position, seconds. */
  readonly maxLocationAgeS: number;
}

/** A position as the GMLC reported it. */
export interface MlpPosition {
  readonly msisdn: string;
  readonly latitude: number;
  readonly longitude: number;
  /** Circle radius in meters; null for a point. */
  readonly radiusM: number | null;
  /** When the subscriber was there (UTC ms). */
  readonly time: number;
  /** The MLP pos_method (CELL, A-GPS, OTDOA, …) when the answer names it. */
  readonly method: string | null;
}

export function renderSlir(r: SlirRequest): string {
  const pwd = r.password === null ? '' : `<pwd>${xmlEscape(r.password)}</pwd>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE svc_init SYSTEM "MLP_SVC_INIT_310.DTD">',
    '<svc_init ver="3.1.0">',
    `  <hdr ver="3.1.0"><client><id>${xmlEscape(r.clientId)}</id>${pwd}</client></hdr>`,
    '  <slir ver="3.1.0" res_type="SYNC">',
    `    <msids><msid type="MSISDN">${xmlEscape(r.msisdn)}</msid></msids>`,
    `    <eqop><hor_acc>${Math.round(r.horizontalAccuracyM)}</hor_acc><max_loc_age>${Math.round(r.maxLocationAgeS)}</max_loc_age></eqop>`,
    '    <loc_type type="CURRENT_OR_LAST"/>',
    '  </slir>',
    '</svc_init>',
    '',
  ].join('\n');
}

/** MLP result codes → outcome reasons (OMA-TS-MLP §5.4: 0-99 server, 100-199 request, 200-299 network). */
export function reasonOfResult(resid: number): QueryFailureReason {
  if (resid === 4) return 'unknown-subscriber';
  if (resid === 5 || resid === 6 || resid === 201) return 'position-method-failure'; // absent, method failure, QoP not attainable
  if (resid === 3 || resid === 202 || resid === 207) return 'refused'; // unauthorized application, positioning not allowed, disallowed by local regulations
  return 'system-failure';
}

class Malformed extends Error {}

/** "30 16 28.308N" (degrees minutes seconds, hemisphere) or "-30.2745" (decimal degrees). */
export function parseCoordinate(raw: string, axis: 'lat' | 'lon'): number {
  const s = raw.trim();
  const limit = axis === 'lat' ? 90 : 180;
  let v: number;
  const dms = /^(\d{1,3})\s+(\d{1,2})\s+(\d{1,2}(?:\.\d+)?)\s*([NSEW])$/i.exec(s);
  if (dms) {
    const hemi = dms[4]!.toUpperCase();
    if ((axis === 'lat') !== (hemi === 'N' || hemi === 'S')) throw new Malformed(`coordinate ${s}: hemisphere ${hemi} on the ${axis} axis`);
    v = (Number(dms[1]) + Number(dms[2]) / 60 + Number(dms[3]) / 3600) * (hemi === 'S' || hemi === 'W' ? -1 : 1);
  } else if (/^[-+]?\d{1,3}(\.\d+)?$/.test(s)) v = Number(s);
  else throw new Malformed(`coordinate ${JSON.stringify(s)} is neither DD MM SS.SSS[NSEW] nor decimal degrees`);
  if (!(Math.abs(v) <= limit)) throw new Malformed(`coordinate ${s} out of range for ${axis}`);
  return v;
}

/** MLP time "YYYYMMDDhhmmss" is local time; utc_off "+0200" says how far from UTC. */
export function parseMlpTime(raw: string, utcOff: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw.trim());
  if (!m) throw new Malformed(`time ${JSON.stringify(raw)} is not YYYYMMDDhhmmss`);
  const off = /^([+-])(\d{2})(\d{2})$/.exec(utcOff ?? '+0000');
  if (!off) throw new Malformed(`utc_off ${JSON.stringify(utcOff)} is not ±hhmm`);
  const local = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(local)) throw new Malformed(`time ${raw} is not a date`);
  const offMs = (Number(off[2]) * 60 + Number(off[3])) * 60_000 * (off[1] === '-' ? -1 : 1);
  return local - offMs;
}

function resultOutcome(result: unknown): QueryOutcome<never> {
  const resid = Number(attr(result, 'resid'));
  if (!Number.isInteger(resid)) throw new Malformed('result without a numeric resid');
  return failed(reasonOfResult(resid), `MLP result ${resid} ${text(result) ?? ''}`.trim());
}

function position(pos: unknown, msisdn: string): QueryOutcome<MlpPosition> {
  const poserr = child(pos, 'poserr');
  if (poserr !== undefined) return resultOutcome(child(poserr, 'result'));
  const pd = child(pos, 'pd');
  if (pd === undefined) throw new Malformed('pos with neither pd nor poserr');
  const time = child(pd, 'time');
  if (time === undefined) throw new Malformed('pd without time');
  const shape = child(pd, 'shape');
  const point = child(shape, 'Point');
  const circle = child(shape, 'CircularArea');
  const area = point ?? circle;
  if (area === undefined) throw new Malformed('shape is neither Point nor CircularArea');
  const coord = child(area, 'coord');
  const x = text(child(coord, 'X'));
  const y = text(child(coord, 'Y'));
  if (x === undefined || y === undefined) throw new Malformed('coord without X and Y');
  let radiusM: number | null = null;
  if (circle !== undefined) {
    radiusM = Number(text(child(circle, 'radius')));
    if (!(radiusM >= 0)) throw new Malformed('CircularArea without a radius in meters');
  }
  const method = text(child(pos, 'pos_method')) ?? text(child(pd, 'pos_method')) ?? null;
  return {
    ok: true,
    fact: {
      msisdn,
      latitude: parseCoordinate(x, 'lat'),
      longitude: parseCoordinate(y, 'lon'),
      radiusM,
      time: parseMlpTime(text(time)!, attr(time, 'utc_off')),
      method,
    },
  };
}

/** The outcome an SLIA gives for `msisdn`; anything unreadable is 'malformed-answer'. */
export function parseSlia(body: string, msisdn: string): QueryOutcome<MlpPosition> {
  try {
    const doc = parseXml('mlp', body);
    const svc = child(doc, 'svc_result');
    if (svc === undefined) {
      // A server that could not even read the request answers with a general error message.
      const general = child(child(doc, 'general_error_msg'), 'result');
      if (general !== undefined) return resultOutcome(general);
      throw new Malformed('root is not svc_result');
    }
    const slia = child(svc, 'slia');
    if (slia === undefined) throw new Malformed('svc_result without slia');
    const whole = child(slia, 'result');
    if (whole !== undefined && Number(attr(whole, 'resid')) !== 0) return resultOutcome(whole);
    const all = children(slia, 'pos');
    const mine = all.find((p) => text(child(p, 'msid'))?.replace(/^\+/, '') === msisdn) ?? (all.length === 1 ? all[0] : undefined);
    if (mine === undefined) throw new Malformed(`slia has no pos for ${msisdn}`);
    return position(mine, msisdn);
  } catch (err) {
    return failed('malformed-answer', (err as Error).message);
  }
}
