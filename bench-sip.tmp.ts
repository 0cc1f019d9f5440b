import { udpPayloads } from './connectors/decode/sip/testSupport.ts';
import { parseSipMessage, looksLikeSip } from './connectors/decode/sip/index.ts';
import { capture } from './test/support/captures.ts';
const p = udpPayloads(capture('bench/sipp-register-invite-load.pcapng')).map(d=>d.payload).filter(looksLikeSip);
for (const mode of ['parse', 'parse+fields', 'looksLikeSip']) {
  for (let warm = 0; warm < 2; warm++) {
    const t0 = process.hrtime.bigint(); let sink = 0; const R = 10;
    for (let r = 0; r < R; r++) for (const b of p) {
      if (mode === 'looksLikeSip') { sink += looksLikeSip(b) ? 1 : 0; continue; }
      const m = parseSipMessage(b); sink += m.cseq.seq;
      if (mode === 'parse+fields') sink += (m.from?.uri.length ?? 0) + (m.to?.tag?.length ?? 0) + (m.topVia?.branch?.length ?? 0) + m.contacts.length + (m.expires ?? 0);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (warm) console.log(mode, Math.round(p.length * R / secs), 'msg/s', sink > 0);
  }
}
