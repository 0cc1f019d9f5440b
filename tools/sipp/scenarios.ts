// SIPp scenarios for the interop tests, as data. SIPp substitutes [keywords]
// (local/remote address, call number…) when it sends.

/** A whole scenario: the XML prolog, the steps, and the variables they assign (SIPp wants each one referenced). */
export function scenarioXml(name: string, steps: string, referenced: readonly string[] = []): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="${name}">${steps}${referenced.length > 0 ? `\n  <Reference variables="${referenced.join(',')}"/>` : ''}
</scenario>
`;
}

/** UAS step: answers the request just received with `status`, its transaction headers copied (RFC 3261 §8.2.6.2). */
function answerReceived(status = '200 OK', next?: string): string {
  return `
  <send${next ? ` next="${next}"` : ''}><![CDATA[

      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>`;
}

/** UAS step: receives a NOTIFY, runs `checks` on it (SIPp actions: a failed check_it fails the call), answers `status`. */
export function receiveNotify(checks: readonly string[] = [], o: { crlf?: boolean; status?: string } = {}): string {
  const recv = `<recv request="NOTIFY"${o.crlf ? ' crlf="true"' : ''}`;
  const step = checks.length === 0 ? `${recv}/>` : `${recv}>\n    <action>\n      ${checks.join('\n      ')}\n    </action>\n  </recv>`;
  return `\n  ${step}${answerReceived(o.status)}`;
}

interface SubscribeRequestOptions {
  /** The Request-URI, also To: the presentity or group. */
  readonly uri: string;
  /** Default sip:watcher@example.com. */
  readonly from?: string | undefined;
  readonly fromTag: string;
  /** Where the NOTIFYs go; default this SIPp itself. */
  readonly contact?: string | undefined;
  /** Default application/pidf+xml. */
  readonly accept?: string | undefined;
  /** The event package; default presence (dialog: a busy lamp field watcher, RFC 4235). */
  readonly event?: string | undefined;
  /** A Supported header (e.g. eventlist for a group), none when undefined. */
  readonly supported?: string | undefined;
  readonly expires: number;
  /** A body (e.g. an RFC 4661 filter) and its Content-Type. */
  readonly body?: { readonly contentType: string; readonly content: string } | undefined;
}

/** UAC step: a watcher's initial SUBSCRIBE (CSeq 1), retransmitted every 500 ms until answered. */
export function subscribeRequest(o: SubscribeRequestOptions): string {
  const lines = [
    `SUBSCRIBE ${o.uri} SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    `From: <${o.from ?? 'sip:watcher@example.com'}>;tag=${o.fromTag}`,
    `To: <${o.uri}>`,
    'Call-ID: [call_id]',
    'CSeq: 1 SUBSCRIBE',
    `Contact: <${o.contact ?? 'sip:watcher@[local_ip]:[local_port]'}>`,
    'Max-Forwards: 70',
    `Event: ${o.event ?? 'presence'}`,
    `Accept: ${o.accept ?? 'application/pidf+xml'}`,
    ...(o.supported !== undefined ? [`Supported: ${o.supported}`] : []),
    `Expires: ${o.expires}`,
    ...(o.body ? [`Content-Type: ${o.body.contentType}`, 'Content-Length: [len]'] : ['Content-Length: 0']),
  ];
  return `
  <send retrans="500"><![CDATA[

${lines.map((l) => `      ${l}`).join('\n')}

${o.body ? `${o.body.content}\n` : ''}    ]]></send>`;
}

/** UAS: receives one NOTIFY and answers 200 OK, copying the transaction headers. */
export const NOTIFY_UAS = scenarioXml(
  'presence NOTIFY receiver',
  receiveNotify(
    [
      '<ereg regexp="presence" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>',
      '<ereg regexp="application/pidf\\+xml" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>',
    ],
    { crlf: true },
  ),
  ['ev', 'ct'],
);

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

/** UAC: one SUBSCRIBE, retransmitted by SIPp from retransMs on (its Timer E), expecting a 200 with Expires and a To-tag. */
function subscribeUac(name: string, retransMs: number): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="${name}">
  <send retrans="${retransMs}"><![CDATA[
${SUBSCRIBE}
    ]]></send>
  <recv response="200">${CHECK_200}
  </recv>
  <Reference variables="exp,all,totag"/>
</scenario>
`;
}

/** UAC: one SUBSCRIBE, expects a 200 with Expires and a To-tag. */
export const SUBSCRIBE_UAC = subscribeUac('presence watcher', 500);

/**
 * UAC: SUBSCRIBE retransmitted by SIPp itself every 50 ms, doubling (its
 * Timer E with T1 = 50 ms), until the answer comes; the server is meant to
 * answer late, so several identical copies reach it while Trying.
 */
export const SUBSCRIBE_RETRANSMITTING_UAC = subscribeUac('presence watcher, retransmitting', 50);

/**
 * UAC: a watcher SUBSCRIBEs to `presentityUri` (From-tag `fromTag`, CSeq 1),
 * expects 200 with the granted Expires and a To-tag, and writes the To-tag to
 * `tagFile` (SIPp's exec runs a shell) so a test can find the dialog's NOTIFYs.
 * `contact` (default: this SIPp itself) is where the NOTIFYs go: a SIPp UAC
 * sends everything to its command-line target, so the dialog's NOTIFYs are
 * received by a second SIPp, a UAS (`notifyReceiverUas`), at that address.
 */
export function subscribeToPresentityUac(o: {
  presentityUri: string;
  /** The watcher's URI (default sip:watcher@example.com); its own URI for its own mailbox (message-summary, message). */
  from?: string;
  fromTag: string;
  expires: number;
  tagFile: string;
  contact?: string;
  /** Event and Accept of another package (dialog) than presence. */
  event?: { readonly name: string; readonly accept: string };
}): string {
  const subscribe = subscribeRequest({
    uri: o.presentityUri,
    from: o.from,
    fromTag: o.fromTag,
    contact: o.contact,
    expires: o.expires,
    event: o.event?.name,
    accept: o.event?.accept,
  });
  const answered = `
  <recv response="200">
    <action>
      <ereg regexp="^ *${o.expires} *$" search_in="hdr" header="Expires:" check_it="true" assign_to="exp"/>
      <ereg regexp=";tag=([^;>]+)" search_in="hdr" header="To:" check_it="true" assign_to="all,totag"/>
      <exec command="echo '[$totag]' > ${o.tagFile}"/>
    </action>
  </recv>`;
  return scenarioXml(`presence watcher of ${o.presentityUri}`, subscribe + answered, ['exp', 'all', 'totag']);
}

/**
 * UAS: a watcher's side of `notifies` NOTIFYs in one dialog (one SIPp call per
 * dialog), each answered 200 OK — the benchmark's watchers. The call lingers
 * `lingerMs` after the last 200 as a server transaction does (Timer J): a
 * retransmitted last NOTIFY (its 200 lost) is answered again, where a finished
 * SIPp call would swallow it and leave the sender to time out.
 */
export function notifyReceiverUas(notifies: number, lingerMs = 2000): string {
  const linger = `
  <pause milliseconds="${lingerMs}"/>`;
  return scenarioXml(`presence watcher UAS, ${notifies} NOTIFYs per dialog`, receiveNotify([], { crlf: true }).repeat(notifies) + linger);
}

/**
 * UAS: a watcher's side of one dialog whose NOTIFY count is not known in
 * advance (message-summary, message): waits for the first NOTIFY, then answers
 * each 200 OK until none comes for `quietMs` (the recv timeout jumps to the
 * end). SIPp still counts that timeout as a failed call: exit code 1, with one
 * "receive timeout … jumping to label" line in its error log.
 */
export function notifyReceiverUntilQuietUas(quietMs: number): string {
  const first = `
  <recv request="NOTIFY" crlf="true"/>${answerReceived()}`;
  const more = `
  <label id="more"/>
  <recv request="NOTIFY" crlf="true" timeout="${quietMs}" ontimeout="quiet"/>${answerReceived('200 OK', 'more')}
  <label id="quiet"/>`;
  return scenarioXml(`watcher UAS, NOTIFYs until ${quietMs} ms of quiet`, first + more);
}

/**
 * UAC: a watcher that SUBSCRIBEs, is challenged (401), and SUBSCRIBEs again with
 * digest credentials (SIPp's [authentication] keyword, -au/-ap); the final
 * answer must be `expect` (200 with the right password, 403 with a wrong one).
 */
export function authenticatedSubscribeUac(o: { presentityUri: string; from: string; expect: '200' | '403' }): string {
  const request = (cseq: number, auth: boolean) => `
  <send retrans="500"><![CDATA[

      SUBSCRIBE ${o.presentityUri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <${o.from}>;tag=[call_number]auth
      To: <${o.presentityUri}>
      Call-ID: [call_id]
      CSeq: ${cseq} SUBSCRIBE
      Contact: <sip:watcher@[local_ip]:[local_port]>
      Max-Forwards: 70
      Event: presence
      Accept: application/pidf+xml
      Expires: 600${auth ? '\n      [authentication]' : ''}
      Content-Length: 0

    ]]></send>`;
  return scenarioXml(
    `authenticated SUBSCRIBE expecting ${o.expect}`,
    `${request(1, false)}
  <recv response="401" auth="true"/>${request(2, true)}
  <recv response="${o.expect}"/>`,
  );
}

/**
 * UAC: an IMS handset's registration life — REGISTER for `expires` s, a refresh
 * after `pauseMs`, then the de-registration (expires=0) after another `pauseMs`;
 * each answered 200 by the registrar (retransmitted every 500 ms until then).
 */
export function registerHandsetUac(o: { aor: string; registrar: string; expires: number; pauseMs: number }): string {
  const register = (cseq: number, expires: number) => `
  <send retrans="500"><![CDATA[

      REGISTER ${o.registrar} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <${o.aor}>;tag=[call_number]reg
      To: <${o.aor}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:handset@[local_ip]:[local_port]>;expires=${expires}
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>`;
  const pause = `
  <pause milliseconds="${o.pauseMs}"/>`;
  return scenarioXml(`IMS handset ${o.aor}`, register(1, o.expires) + pause + register(2, o.expires) + pause + register(3, 0));
}
