// ISUP (ITU-T Q.763): CIC, message type, then mandatory fixed part,
// pointers to mandatory variable parameters and to the optional part. Only
// the fields presence needs are decoded: numbers, cause, CPG event, ACM/CON
// backward call indicators.
import { DecodeError, need } from '../layer.ts';
import { bcdDigits, HEX_DIGITS } from '../ber/bcd.ts';
import { CAUSE_LOCATIONS, CPG_EVENTS, Q850_CAUSES } from './causes.ts';
import { ISUP_ACM, ISUP_CON, ISUP_CPG, ISUP_IAM, ISUP_MESSAGE_TYPES } from './messageTypes.ts';
import { decodeIsupNumber, type IsupNumber } from './number.ts';
import { ISUP_PARAMS } from './parameterCodes.ts';

const LAYER = 'isup';

export interface IsupCause {
  value: number;
  name: string;
  location: string;
}

export interface BackwardCallIndicators {
  charge: string;
  calledPartyStatus: string;
  calledPartyCategory: string;
}

export interface IsupMessage {
  cic: number;
  type: number;
  /** Q.763 acronym: IAM, ACM, ANM, REL, ... */
  name: string;
  calledNumber?: IsupNumber;
  callingNumber?: IsupNumber;
  redirectingNumber?: IsupNumber;
  originalCalledNumber?: IsupNumber;
  connectedNumber?: IsupNumber;
  /** SAM subsequent address signals. */
  subsequentDigits?: string;
  cause?: IsupCause;
  /** CPG event indicator name (alerting, progress, ...). */
  event?: string;
  backwardCallIndicators?: BackwardCallIndicators;
}

const CHARGE = ['noIndication', 'noCharge', 'charge', 'spare'];
const CALLED_STATUS = ['noIndication', 'subscriberFree', 'connectWhenFree', 'excessiveDelay'];
const CALLED_CATEGORY = ['noIndication', 'ordinarySubscriber', 'payphone', 'spare'];

export function decodeIsup(buf: Buffer): IsupMessage {
  need(LAYER, buf, 0, 3, 'CIC and message type');
  const cic = buf.readUInt16LE(0) & 0x0fff;
  const type = buf[2]!;
  const fmt = ISUP_MESSAGE_TYPES[type];
  if (!fmt) throw new DecodeError(LAYER, 'unknown', `message type 0x${type.toString(16)}`);
  const msg: IsupMessage = { cic, type, name: fmt.name };
  const fixedAt = 3;
  need(LAYER, buf, fixedAt, fmt.fixed, `${fmt.name} fixed part`);
  if (type === ISUP_CPG) {
    const ev = buf[fixedAt]! & 0x7f;
    msg.event = CPG_EVENTS[ev] ?? `event${ev}`;
  } else if (type === ISUP_ACM || type === ISUP_CON) {
    const b = buf[fixedAt]!;
    msg.backwardCallIndicators = {
      charge: CHARGE[b & 0x03]!,
      calledPartyStatus: CALLED_STATUS[(b >> 2) & 0x03]!,
      calledPartyCategory: CALLED_CATEGORY[(b >> 4) & 0x03]!,
    };
  }
  const ptrAt = fixedAt + fmt.fixed;
  const nptr = fmt.variable + (fmt.optional ? 1 : 0);
  need(LAYER, buf, ptrAt, nptr, `${fmt.name} pointers`);
  for (let i = 0; i < fmt.variable; i++) {
    const at = ptrAt + i;
    const ptr = buf[at]!;
    if (ptr === 0) throw new DecodeError(LAYER, 'malformed', `${fmt.name} mandatory pointer ${i} is 0`);
    const p = at + ptr;
    need(LAYER, buf, p, 1, `${fmt.name} variable parameter ${i} length`);
    const len = buf[p]!;
    need(LAYER, buf, p + 1, len, `${fmt.name} variable parameter ${i}`);
    if (i === 0) mandatoryVariable(buf, type, p + 1, p + 1 + len, msg);
  }
  if (fmt.optional) {
    const at = ptrAt + fmt.variable;
    const ptr = buf[at]!;
    if (ptr !== 0) {
      let p = at + ptr;
      while (p < buf.length) {
        const code = buf[p]!;
        if (code === ISUP_PARAMS.endOfOptional) break;
        need(LAYER, buf, p + 1, 1, `optional parameter ${code} length`);
        const len = buf[p + 1]!;
        need(LAYER, buf, p + 2, len, `optional parameter ${code}`);
        optionalParam(buf, code, p + 2, p + 2 + len, msg);
        p += 2 + len;
      }
    }
  }
  return msg;
}

function mandatoryVariable(buf: Buffer, type: number, s: number, e: number, msg: IsupMessage): void {
  if (type === ISUP_IAM) {
    msg.calledNumber = decodeIsupNumber(buf, s, e, false);
  } else if (type === 0x02) {
    // SAM subsequent number: odd/even octet, then signals.
    if (e > s) {
      const odd = (buf[s]! & 0x80) !== 0;
      msg.subsequentDigits = bcdDigits(buf, s + 1, e, (e - s - 1) * 2 - (odd ? 1 : 0), HEX_DIGITS);
    }
  } else if (type === 0x0c || type === 0x2f || type === 0x21) {
    msg.cause = decodeCause(buf, s, e);
  }
}

function optionalParam(buf: Buffer, code: number, s: number, e: number, msg: IsupMessage): void {
  switch (code) {
    case ISUP_PARAMS.callingPartyNumber:
      msg.callingNumber = decodeIsupNumber(buf, s, e, true);
      break;
    case ISUP_PARAMS.redirectingNumber:
      msg.redirectingNumber = decodeIsupNumber(buf, s, e, true);
      break;
    case ISUP_PARAMS.originalCalledNumber:
      msg.originalCalledNumber = decodeIsupNumber(buf, s, e, true);
      break;
    case ISUP_PARAMS.connectedNumber:
      msg.connectedNumber = decodeIsupNumber(buf, s, e, true);
      break;
    case ISUP_PARAMS.causeIndicators:
      msg.cause ??= decodeCause(buf, s, e);
      break;
    case ISUP_PARAMS.backwardCallIndicators:
      if (e > s && !msg.backwardCallIndicators) {
        const b = buf[s]!;
        msg.backwardCallIndicators = {
          charge: CHARGE[b & 0x03]!,
          calledPartyStatus: CALLED_STATUS[(b >> 2) & 0x03]!,
          calledPartyCategory: CALLED_CATEGORY[(b >> 4) & 0x03]!,
        };
      }
      break;
    default:
      break;
  }
}

/** Cause indicators (Q.763 §3.12 / Q.850 §2): location octet (+ optional 1a), then cause value. */
function decodeCause(buf: Buffer, s: number, e: number): IsupCause {
  if (e - s < 2) throw new DecodeError(LAYER, 'malformed', `cause of ${e - s} octets`);
  const o1 = buf[s]!;
  // Extension bit 0 means octet 1a (recommendation) follows.
  const vAt = o1 & 0x80 ? s + 1 : s + 2;
  if (vAt >= e) throw new DecodeError(LAYER, 'malformed', 'cause value missing');
  const value = buf[vAt]! & 0x7f;
  const loc = o1 & 0x0f;
  return { value, name: Q850_CAUSES[value] ?? `cause${value}`, location: CAUSE_LOCATIONS[loc] ?? `location${loc}` };
}
