// SIP request methods as data: RFC 3261 core plus the extension RFCs that define
// presence, messaging and mid-dialog methods. Extension methods are legal
// (RFC 3261 §27.4), so a method missing here is still parsed; the table only
// says which ones we know and where they come from.

export interface SipMethodInfo {
  readonly name: string;
  readonly rfc: string;
  readonly description: string;
}

export const SIP_METHODS = {
  INVITE: { name: 'INVITE', rfc: 'RFC 3261', description: 'Initiate a session' },
  ACK: { name: 'ACK', rfc: 'RFC 3261', description: 'Confirm final response to INVITE' },
  BYE: { name: 'BYE', rfc: 'RFC 3261', description: 'Terminate a session' },
  CANCEL: { name: 'CANCEL', rfc: 'RFC 3261', description: 'Cancel a pending request' },
  REGISTER: { name: 'REGISTER', rfc: 'RFC 3261', description: 'Register contact bindings for an AoR' },
  OPTIONS: { name: 'OPTIONS', rfc: 'RFC 3261', description: 'Query capabilities' },
  PRACK: { name: 'PRACK', rfc: 'RFC 3262', description: 'Provisional response acknowledgement' },
  SUBSCRIBE: { name: 'SUBSCRIBE', rfc: 'RFC 6665', description: 'Subscribe to an event package' },
  NOTIFY: { name: 'NOTIFY', rfc: 'RFC 6665', description: 'Notify subscriber of an event' },
  PUBLISH: { name: 'PUBLISH', rfc: 'RFC 3903', description: 'Publish event state' },
  INFO: { name: 'INFO', rfc: 'RFC 6086', description: 'Mid-dialog application information' },
  REFER: { name: 'REFER', rfc: 'RFC 3515', description: 'Ask recipient to issue a request' },
  MESSAGE: { name: 'MESSAGE', rfc: 'RFC 3428', description: 'Instant message' },
  UPDATE: { name: 'UPDATE', rfc: 'RFC 3311', description: 'Update session parameters' },
} as const satisfies Record<string, SipMethodInfo>;

export type KnownSipMethod = keyof typeof SIP_METHODS;

export function isKnownSipMethod(method: string): method is KnownSipMethod {
  return Object.prototype.hasOwnProperty.call(SIP_METHODS, method);
}
