// A third-party REGISTER from an S-CSCF to us as an ISC application server
// (3GPP TS 24.229 §5.4.1.7, §5.7.1.1): To is the registered public identity,
// Contact the S-CSCF, Expires what the S-CSCF granted the UE (0: de-registered).
// When the S-CSCF copies the UE's REGISTER (or its 200) into a message/sip
// body, the UE's own bindings are read from it; otherwise the registration is
// known only as "registered through this S-CSCF" and that is the binding.
import { DecodeError } from '../../protocols/decode/layer.ts';
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import type { RegistrationFacts } from './registrationEvent.ts';

const LAYER = 'isc';

export interface ThirdPartyRegistration {
  readonly facts: RegistrationFacts;
  /** What the S-CSCF granted: echoed in our 200 (Expires and the Contact's expires). */
  readonly expires: number;
  /** Where the bindings came from. */
  readonly from: 'register-body' | 'response-body' | 'scscf-contact';
}

/** The message/sip part of a third-party REGISTER, or undefined when none; a body that is not SIP throws. */
function embedded(req: SipMessage): SipMessage | undefined {
  if (req.body.length === 0 || req.contentType?.mediaType !== 'message/sip') return undefined;
  let body = req.body;
  // A copied request without a body may end at its last header line.
  if (body.indexOf('\r\n\r\n') < 0 && body.indexOf('\n\n') < 0) body = Buffer.concat([body, Buffer.from('\r\n\r\n')]);
  const inner = parseSipMessage(body);
  if (inner.kind === 'request' && inner.method !== 'REGISTER')
    throw new DecodeError(LAYER, 'unsupported', `message/sip body is a ${inner.method}, not the REGISTER`);
  if (inner.kind === 'response' && (inner.cseq.method !== 'REGISTER' || (inner.status ?? 0) >= 300)) {
    throw new DecodeError(LAYER, 'unsupported', `message/sip body is a ${inner.status} to ${inner.cseq.method}`);
  }
  return inner;
}

/**
 * Reads a third-party REGISTER. Throws DecodeError when it cannot be one
 * (no To, no Expires with the S-CSCF's Contact, a message/sip body that is not the REGISTER).
 */
export function readThirdPartyRegister(req: SipMessage, time: number, origin: string): ThirdPartyRegistration {
  const aor = req.to?.uri;
  if (!aor) throw new DecodeError(LAYER, 'malformed', 'REGISTER without To');
  const scscf = req.contacts[0];
  const expires = scscf?.expires ?? req.expires;
  if (expires === undefined) throw new DecodeError(LAYER, 'malformed', 'third-party REGISTER without Expires');
  const inner = embedded(req);
  const base = {
    aor,
    time,
    eventId: `isc:${req.callId}:${req.cseq.seq}`,
    tap: 'isc',
    origin,
    callId: req.callId,
    cseq: req.cseq.seq,
    event: null,
    contentType: req.contentType?.mediaType ?? null,
    body: req.body.length > 0 ? Buffer.from(req.body) : null,
  };
  if (expires === 0 || req.contactWildcard) return { facts: { ...base, contacts: [] }, expires: 0, from: inner ? 'register-body' : 'scscf-contact' };
  if (inner?.kind === 'response') {
    // The registrar's 200 lists every binding with what it granted (RFC 3261 §10.3 step 8).
    const contacts = inner.contacts.map((c) => ({ uri: c.uri, expiresS: c.expires ?? inner.expires ?? expires })).filter((c) => c.expiresS > 0);
    return { facts: { ...base, contacts }, expires, from: 'response-body' };
  }
  if (inner) {
    // The UE's request: its contacts, for what the S-CSCF granted (a contact it removes has expires=0).
    const contacts = inner.contacts.filter((c) => c.expires !== 0).map((c) => ({ uri: c.uri, expiresS: expires }));
    return { facts: { ...base, contacts }, expires, from: 'register-body' };
  }
  if (!scscf) throw new DecodeError(LAYER, 'malformed', 'third-party REGISTER without Contact');
  return { facts: { ...base, contacts: [{ uri: scscf.uri, expiresS: expires }] }, expires, from: 'scscf-contact' };
}
