// What the peer benchmark offers both systems, unchanged between them: the
// watchers (run by nodeWatchers.ts) and the SIPp publisher scenario with its
// injection file, one SIPp call per PUBLISH. Names carry what the measurement
// reads back from the message logs: a dialog's or call's first request names
// the presentity (Call-IDs stay SIPp's own, by which it maps what it
// receives), and every publication is a tuple whose id names its presentity
// and sequence number, so a watcher's last NOTIFY shows whether it holds
// every publication.
import { scenarioXml } from '../../tools/sipp/scenarios.ts';

/** Domain of the presentity URIs (Request-URI, To, From); neither system routes on it. */
export const DOMAIN = 'peer.bench';

/** Socket buffers of the harness (SIPp publishers, Node watchers): the default ~208 KiB receive buffer overflowed while the system under test had the CPU, and the harness's own drops read as the system's retransmissions and lost NOTIFYs. */
export const HARNESS_UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** The presentity user of number i (1-based) in a step's own namespace, so steps on one running server never share state. */
export const presentityUser = (namespace: string, i: number) => `${namespace}p${String(i).padStart(5, '0')}`;

/** The tuple id of publication k (1-based) of a presentity: what the final NOTIFY must contain. */
export const tupleId = (user: string, k: number) => `t${user}-${k}`;

/** SIPp's injection file: the fields of one call per line, read in order. */
function injection(rows: ReadonlyArray<readonly (string | number)[]>): string {
  return `SEQUENTIAL\n${rows.map((r) => `${r.join(';')};`).join('\n')}\n`;
}

/** The watchers: each presentity's in turn (presentity user, watcher number). */
export function watcherRows(namespace: string, presentities: number, watchersEach: number): Array<[string, number]> {
  const rows: Array<[string, number]> = [];
  for (let p = 1; p <= presentities; p++) for (let w = 1; w <= watchersEach; w++) rows.push([presentityUser(namespace, p), w]);
  return rows;
}

/**
 * PUBLISH calls: every presentity's first publication, then every second…
 * (field0 presentity user, field1 sequence number), so one presentity's
 * publications are spread over the run rather than back to back.
 */
export function publisherRows(namespace: string, presentities: number, perPresentity: number): string {
  const rows: Array<[string, number]> = [];
  for (let k = 1; k <= perPresentity; k++) for (let p = 1; p <= presentities; p++) rows.push([presentityUser(namespace, p), k]);
  return injection(rows);
}

/**
 * The publisher: one initial PUBLISH (RFC 3903 §4.2, no SIP-If-Match), so
 * each call adds a publication the presentity's document aggregates; its
 * tuple's note pads the tuple to about 150 bytes, so ten publications make
 * a PIDF past 1,300 bytes. Retransmitted from 500 ms until answered.
 */
export function publisherScenario(): string {
  const steps = `
  <send retrans="500"><![CDATA[

      PUBLISH sip:[field0]@${DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@${DOMAIN}>;tag=p[call_number]
      To: <sip:[field0]@${DOMAIN}>
      Call-ID: [call_id]
      CSeq: 1 PUBLISH
      Max-Forwards: 70
      Event: presence
      Expires: 3600
      Content-Type: application/pidf+xml
      Content-Length: [len]

<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:[field0]@${DOMAIN}">
  <tuple id="t[field0]-[field1]">
    <status><basic>open</basic></status>
    <note>publication [field1] of [field0], padded to a realistic tuple size</note>
  </tuple>
</presence>
    ]]></send>
  <recv response="200"/>`;
  return scenarioXml('peer bench publisher', steps);
}
