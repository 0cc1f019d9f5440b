// What a PBX's pua_dialoginfo sends: a PUBLISH of one call's dialog-info (RFC 4235)
// for a presentity, as raw SIP text for a test's UDP socket. The document version
// follows the CSeq, as a PBX numbers its publications.
import { DIALOG_INFO } from '../../presence-document/dialogInfo.ts';

export interface PbxPublish {
  presentity: string;
  /** The PBX's own address (its Via). */
  host: string;
  port: number;
  callId: string;
  fromTag: string;
  cseq: number;
  expires: number;
  /** The call's state (trying, early, confirmed, terminated); none: a removal (empty body). */
  state?: string;
  ifMatch?: string;
  /** The published call's Call-ID. */
  pbxCallId?: string;
}

export function pbxDialogPublish(o: PbxPublish): string {
  const body = o.state
    ? `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${o.cseq}" state="full" entity="${o.presentity}">
  <dialog id="pbx-1" call-id="${o.pbxCallId ?? 'pbx-call-1@pbx.example.com'}" direction="recipient"><state>${o.state}</state><remote><identity>sip:200@pbx.example.com</identity></remote></dialog>
</dialog-info>`
    : '';
  return [
    `PUBLISH ${o.presentity} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.host}:${o.port};branch=z9hG4bK-${o.callId}-${o.cseq}`,
    'Max-Forwards: 70',
    `From: <sip:pbx@pbx.example.com>;tag=${o.fromTag}`,
    `To: <${o.presentity}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} PUBLISH`,
    'Event: dialog',
    `Expires: ${o.expires}`,
    ...(o.ifMatch ? [`SIP-If-Match: ${o.ifMatch}`] : []),
    ...(body ? [`Content-Type: ${DIALOG_INFO}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
