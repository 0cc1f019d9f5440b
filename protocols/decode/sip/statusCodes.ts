// SIP response codes with their reason phrases and defining RFC (IANA "SIP
// Parameters" registry). Data only: the parser keeps the reason phrase the
// wire carried; this table gives the canonical one for unknown/odd phrases.

interface SipStatusInfo {
  readonly reason: string;
  readonly rfc: string;
}

const SIP_STATUS_CODES: Readonly<Record<number, SipStatusInfo>> = {
  100: { reason: 'Trying', rfc: 'RFC 3261' },
  180: { reason: 'Ringing', rfc: 'RFC 3261' },
  181: { reason: 'Call Is Being Forwarded', rfc: 'RFC 3261' },
  182: { reason: 'Queued', rfc: 'RFC 3261' },
  183: { reason: 'Session Progress', rfc: 'RFC 3261' },
  199: { reason: 'Early Dialog Terminated', rfc: 'RFC 6228' },
  200: { reason: 'OK', rfc: 'RFC 3261' },
  202: { reason: 'Accepted', rfc: 'RFC 6665' },
  204: { reason: 'No Notification', rfc: 'RFC 5839' },
  300: { reason: 'Multiple Choices', rfc: 'RFC 3261' },
  301: { reason: 'Moved Permanently', rfc: 'RFC 3261' },
  302: { reason: 'Moved Temporarily', rfc: 'RFC 3261' },
  305: { reason: 'Use Proxy', rfc: 'RFC 3261' },
  380: { reason: 'Alternative Service', rfc: 'RFC 3261' },
  400: { reason: 'Bad Request', rfc: 'RFC 3261' },
  401: { reason: 'Unauthorized', rfc: 'RFC 3261' },
  402: { reason: 'Payment Required', rfc: 'RFC 3261' },
  403: { reason: 'Forbidden', rfc: 'RFC 3261' },
  404: { reason: 'Not Found', rfc: 'RFC 3261' },
  405: { reason: 'Method Not Allowed', rfc: 'RFC 3261' },
  406: { reason: 'Not Acceptable', rfc: 'RFC 3261' },
  407: { reason: 'Proxy Authentication Required', rfc: 'RFC 3261' },
  408: { reason: 'Request Timeout', rfc: 'RFC 3261' },
  410: { reason: 'Gone', rfc: 'RFC 3261' },
  412: { reason: 'Conditional Request Failed', rfc: 'RFC 3903' },
  413: { reason: 'Request Entity Too Large', rfc: 'RFC 3261' },
  414: { reason: 'Request-URI Too Long', rfc: 'RFC 3261' },
  415: { reason: 'Unsupported Media Type', rfc: 'RFC 3261' },
  416: { reason: 'Unsupported URI Scheme', rfc: 'RFC 3261' },
  417: { reason: 'Unknown Resource-Priority', rfc: 'RFC 4412' },
  420: { reason: 'Bad Extension', rfc: 'RFC 3261' },
  421: { reason: 'Extension Required', rfc: 'RFC 3261' },
  422: { reason: 'Session Interval Too Small', rfc: 'RFC 4028' },
  423: { reason: 'Interval Too Brief', rfc: 'RFC 3261' },
  424: { reason: 'Bad Location Information', rfc: 'RFC 6442' },
  425: { reason: 'Bad Alert Message', rfc: 'RFC 8876' },
  428: { reason: 'Use Identity Header', rfc: 'RFC 8224' },
  429: { reason: 'Provide Referrer Identity', rfc: 'RFC 3892' },
  430: { reason: 'Flow Failed', rfc: 'RFC 5626' },
  433: { reason: 'Anonymity Disallowed', rfc: 'RFC 5079' },
  436: { reason: 'Bad Identity Info', rfc: 'RFC 8224' },
  437: { reason: 'Unsupported Credential', rfc: 'RFC 8224' },
  438: { reason: 'Invalid Identity Header', rfc: 'RFC 8224' },
  439: { reason: 'First Hop Lacks Outbound Support', rfc: 'RFC 5626' },
  440: { reason: 'Max-Breadth Exceeded', rfc: 'RFC 5393' },
  469: { reason: 'Bad Info Package', rfc: 'RFC 6086' },
  470: { reason: 'Consent Needed', rfc: 'RFC 5360' },
  480: { reason: 'Temporarily Unavailable', rfc: 'RFC 3261' },
  481: { reason: 'Call/Transaction Does Not Exist', rfc: 'RFC 3261' },
  482: { reason: 'Loop Detected', rfc: 'RFC 3261' },
  483: { reason: 'Too Many Hops', rfc: 'RFC 3261' },
  484: { reason: 'Address Incomplete', rfc: 'RFC 3261' },
  485: { reason: 'Ambiguous', rfc: 'RFC 3261' },
  486: { reason: 'Busy Here', rfc: 'RFC 3261' },
  487: { reason: 'Request Terminated', rfc: 'RFC 3261' },
  488: { reason: 'Not Acceptable Here', rfc: 'RFC 3261' },
  489: { reason: 'Bad Event', rfc: 'RFC 6665' },
  491: { reason: 'Request Pending', rfc: 'RFC 3261' },
  493: { reason: 'Undecipherable', rfc: 'RFC 3261' },
  494: { reason: 'Security Agreement Required', rfc: 'RFC 3329' },
  500: { reason: 'Server Internal Error', rfc: 'RFC 3261' },
  501: { reason: 'Not Implemented', rfc: 'RFC 3261' },
  502: { reason: 'Bad Gateway', rfc: 'RFC 3261' },
  503: { reason: 'Service Unavailable', rfc: 'RFC 3261' },
  504: { reason: 'Server Time-out', rfc: 'RFC 3261' },
  505: { reason: 'Version Not Supported', rfc: 'RFC 3261' },
  513: { reason: 'Message Too Large', rfc: 'RFC 3261' },
  555: { reason: 'Push Notification Service Not Supported', rfc: 'RFC 8599' },
  580: { reason: 'Precondition Failure', rfc: 'RFC 3312' },
  600: { reason: 'Busy Everywhere', rfc: 'RFC 3261' },
  603: { reason: 'Decline', rfc: 'RFC 3261' },
  604: { reason: 'Does Not Exist Anywhere', rfc: 'RFC 3261' },
  606: { reason: 'Not Acceptable', rfc: 'RFC 3261' },
  607: { reason: 'Unwanted', rfc: 'RFC 8197' },
  608: { reason: 'Rejected', rfc: 'RFC 8688' },
};

/** Class of a status code (1xx provisional … 6xx global failure). */
function statusClass(status: number): 1 | 2 | 3 | 4 | 5 | 6 {
  return Math.min(6, Math.max(1, Math.floor(status / 100))) as 1 | 2 | 3 | 4 | 5 | 6;
}

/** Canonical reason phrase: the table's, else the class default (RFC 3261 §21: x00). */
export function canonicalReason(status: number): string | undefined {
  return SIP_STATUS_CODES[status]?.reason ?? SIP_STATUS_CODES[statusClass(status) * 100]?.reason;
}
