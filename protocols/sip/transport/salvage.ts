// A request the parser refused may still carry what a 400 needs (§8.2.6.2:
// Via, From, To, Call-ID, CSeq). This pulls those raw lines out with a plain
// line scan — not a second parser: nothing is interpreted beyond the header
// names — so the client learns why instead of retransmitting until Timer F.
import { canonicalHeaderName, parseVia, withoutControlCharacters } from '../../decode/sip/index.ts';
import type { ResponseIdentity } from '../message/index.ts';

interface SalvagedRequest {
  readonly method: string;
  readonly identity: ResponseIdentity;
}

const MAX_SCAN_BYTES = 16 * 1024;

export function salvageRequest(raw: Buffer): SalvagedRequest | undefined {
  const text = raw.toString('latin1', 0, Math.min(raw.length, MAX_SCAN_BYTES)).replace(/^[\r\n]+/, '');
  const lines = text.split(/\r?\n/);
  const m = /^([A-Za-z][!%*+`'~.\w-]*) \S+ SIP\/\d/.exec(lines[0] ?? '');
  if (!m) return undefined; // a response, or not SIP at all: nobody to answer
  const method = m[1]!;
  if (method === 'ACK') return undefined; // §17.2.1: ACK is never answered
  const found: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && found.length) {
      found[found.length - 1]![1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    // What the request carried, minus control characters (the reason it may be refused): we never send them.
    found.push([canonicalHeaderName(line.slice(0, colon).trim()), withoutControlCharacters(line.slice(colon + 1)).trim()]);
  }
  const first = (name: string) => found.find(([n]) => n === name)?.[1];
  const vias = found.filter(([n]) => n === 'via').map(([, v]) => v);
  const from = first('from');
  const to = first('to');
  const callId = first('call-id');
  const cseq = first('cseq');
  if (!vias.length || !parseVia(vias[0]!.split(',')[0]!) || !from || !to || !callId || !cseq) return undefined;
  const timestamp = first('timestamp');
  return { method, identity: { vias, from, to, callId, cseq, ...(timestamp ? { timestamp } : {}) } };
}
