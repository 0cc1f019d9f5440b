// SIPp scenarios for the interop tests, as data. SIPp substitutes [keywords]
// (local/remote address, call number…) when it sends.

/** UAS: receives one NOTIFY and answers 200 OK, copying the transaction headers. */
export const NOTIFY_UAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="presence NOTIFY receiver">
  <recv request="NOTIFY" crlf="true">
    <action>
      <ereg regexp="presence" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>
      <ereg regexp="application/pidf\\+xml" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>
    </action>
  </recv>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <Reference variables="ev,ct"/>
</scenario>
`;

const SUBSCRIBE = `
      SUBSCRIBE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-sipp-[call_number]-[pid]
      From: <sip:watcher@[local_ip]:[local_port]>;tag=[pid]W[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:watcher@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Event: presence
      Accept: application/pidf+xml
      Expires: 600
      Content-Length: 0
`;

/** Checks on our 200: the Expires we grant and a To-tag (RFC 6665 §4.2.1.1, RFC 3261 §8.2.6.2). */
const CHECK_200 = `
    <action>
      <ereg regexp="600" search_in="hdr" header="Expires:" check_it="true" assign_to="exp"/>
      <ereg regexp=";tag=([^;>]+)" search_in="hdr" header="To:" check_it="true" assign_to="all,totag"/>
    </action>`;

/** UAC: one SUBSCRIBE, expects a 200 with Expires and a To-tag. */
export const SUBSCRIBE_UAC = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="presence watcher">
  <send retrans="500"><![CDATA[
${SUBSCRIBE}
    ]]></send>
  <recv response="200">${CHECK_200}
  </recv>
  <Reference variables="exp,all,totag"/>
</scenario>
`;

/**
 * UAC: SUBSCRIBE retransmitted by SIPp itself every 50 ms, doubling (its
 * Timer E with T1 = 50 ms), until the answer comes; the server is meant to
 * answer late, so several identical copies reach it while Trying.
 */
export const SUBSCRIBE_RETRANSMITTING_UAC = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="presence watcher, retransmitting">
  <send retrans="50"><![CDATA[
${SUBSCRIBE}
    ]]></send>
  <recv response="200">${CHECK_200}
  </recv>
  <Reference variables="exp,all,totag"/>
</scenario>
`;

/**
 * UAC: a watcher SUBSCRIBEs to `presentityUri` (From-tag `fromTag`, CSeq 1),
 * expects 200 with the granted Expires and a To-tag, and writes the To-tag to
 * `tagFile` (SIPp's exec runs a shell) so a test can find the dialog's NOTIFYs.
 */
export function subscribeToPresentityUac(o: { presentityUri: string; fromTag: string; expires: number; tagFile: string }): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="presence watcher of ${o.presentityUri}">
  <send retrans="500"><![CDATA[

      SUBSCRIBE ${o.presentityUri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:watcher@example.com>;tag=${o.fromTag}
      To: <${o.presentityUri}>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:watcher@[local_ip]:[local_port]>
      Max-Forwards: 70
      Event: presence
      Accept: application/pidf+xml
      Expires: ${o.expires}
      Content-Length: 0

    ]]></send>
  <recv response="200">
    <action>
      <ereg regexp="^ *${o.expires} *$" search_in="hdr" header="Expires:" check_it="true" assign_to="exp"/>
      <ereg regexp=";tag=([^;>]+)" search_in="hdr" header="To:" check_it="true" assign_to="all,totag"/>
      <exec command="echo '[$totag]' > ${o.tagFile}"/>
    </action>
  </recv>
  <Reference variables="exp,all,totag"/>
</scenario>
`;
}

/**
 * UAS: a watcher's side of `notifies` NOTIFYs in one dialog (one SIPp call per
 * dialog), each answered 200 OK — the benchmark's watchers. The call lingers
 * `lingerMs` after the last 200 as a server transaction does (Timer J): a
 * retransmitted last NOTIFY (its 200 lost) is answered again, where a finished
 * SIPp call would swallow it and leave the sender to time out.
 */
export function notifyReceiverUas(notifies: number, lingerMs = 2000): string {
  const step = `
  <recv request="NOTIFY" crlf="true"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="presence watcher UAS, ${notifies} NOTIFYs per dialog">${step.repeat(notifies)}
  <pause milliseconds="${lingerMs}"/>
</scenario>
`;
}
