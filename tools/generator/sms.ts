// SMS TPDUs (3GPP TS 23.040 §9.2.2) carried in MAP sm-RP-UI: SMS-DELIVER for
// mt-ForwardSM and SMS-SUBMIT for mo-ForwardSM, GSM 7-bit default alphabet.
import type { Writer } from '../../protocols/decode/byteWriter.ts';

/** TP-OA / TP-DA: digit count, type of address (international, E.164), TBCD. */
function tpAddress(w: Writer, digits: string): void {
  w.u8(digits.length);
  w.u8(0x91);
  w.tbcd(digits, 0xf);
}

/**
 * Packs text as GSM 7-bit septets. Only characters whose GSM default
 * alphabet code equals ASCII are used by the generator (letters, digits,
 * space and basic punctuation other than @ $ _ etc.).
 */
function septets(w: Writer, text: string): void {
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    acc |= (text.charCodeAt(i) & 0x7f) << bits;
    bits += 7;
    while (bits >= 8) {
      w.u8(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) w.u8(acc & 0xff);
}

function semiOctet(v: number): number {
  return ((v % 10) << 4) | Math.floor(v / 10);
}

/** SMS-DELIVER: MTI=00, MMS=1 (no more messages), SCTS from `epochSeconds` (UTC). */
export function smsDeliver(w: Writer, originator: string, text: string, epochSeconds: number): void {
  w.u8(0x04);
  tpAddress(w, originator);
  w.u8(0x00); // TP-PID: plain SME
  w.u8(0x00); // TP-DCS: GSM 7-bit, no class
  const d = new Date(epochSeconds * 1000);
  w.u8(semiOctet(d.getUTCFullYear() % 100));
  w.u8(semiOctet(d.getUTCMonth() + 1));
  w.u8(semiOctet(d.getUTCDate()));
  w.u8(semiOctet(d.getUTCHours()));
  w.u8(semiOctet(d.getUTCMinutes()));
  w.u8(semiOctet(d.getUTCSeconds()));
  w.u8(0x00); // time zone GMT
  w.u8(text.length);
  septets(w, text);
}

/** SMS-SUBMIT: MTI=01, no validity period. */
export function smsSubmit(w: Writer, reference: number, destination: string, text: string): void {
  w.u8(0x01);
  w.u8(reference & 0xff);
  tpAddress(w, destination);
  w.u8(0x00);
  w.u8(0x00);
  w.u8(text.length);
  septets(w, text);
}
