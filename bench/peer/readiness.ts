// When a system under test is ready: a PUBLISH for a presentity of its own
// is answered 200. That needs the whole PUBLISH path (for our edge: front
// end, Kafka, the event manager owning the partition), so the first measured
// request does not pay for start-up. The same probe for both systems.
import { openSipUdpClient } from '../../test/support/sipUdpClient.ts';
import { DOMAIN } from './scenarios.ts';

const PIDF = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:warmup@${DOMAIN}"><tuple id="warmup"><status><basic>open</basic></status></tuple></presence>
`;

export async function waitUntilPublishAnswered(host: string, port: number, timeoutMs: number): Promise<number> {
  const ua = await openSipUdpClient({ host });
  const t0 = Date.now();
  try {
    for (let n = 1; Date.now() - t0 < timeoutMs; n++) {
      const request =
        `PUBLISH sip:warmup@${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:${ua.port};branch=z9hG4bKwarm${t0}-${n}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:warmup@${DOMAIN}>;tag=warm${n}\r\nTo: <sip:warmup@${DOMAIN}>\r\nCall-ID: warmup-${t0}-${n}\r\nCSeq: 1 PUBLISH\r\n` +
        `Event: presence\r\nExpires: 3600\r\nContent-Type: application/pidf+xml\r\nContent-Length: ${Buffer.byteLength(PIDF)}\r\n\r\n${PIDF}`;
      ua.socket.send(request, port, host);
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        const m = await ua.next(Math.max(1, until - Date.now())).catch(() => undefined);
        if (m?.status === 200 && m.callId === `warmup-${t0}-${n}`) return Date.now() - t0;
      }
    }
    throw new Error(`no 200 to a PUBLISH from ${host}:${port} within ${timeoutMs} ms`);
  } finally {
    await ua.close();
  }
}
