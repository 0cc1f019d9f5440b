// A call-handling decision as a redirect server's SIP answer (RFC 3261 §8.3,
// §21): forward and accept → 302 Moved Temporarily with the target(s) in
// Contact; voicemail → 302 to the configured voicemail URI with RFC 4458's
// target and cause; busy → 486; declined → 603; not available, unreachable,
// unknown, notify-only → 480. A Reason header (RFC 6432) says which
// outcome, never the user's mode or rules (the caller may see it).
import type { SipHeaderLine } from '../../protocols/sip/message/index.ts';
import type { CallDecision, RejectReason } from '../../subscriber/call-handling/callDecision.ts';

export interface SipAnswer {
  readonly status: number;
  readonly headers: SipHeaderLine[];
}

/** RFC 4458 §3.5 cause values: why the call was diverted to voicemail. */
const VOICEMAIL_CAUSE: Readonly<Record<RejectReason, number>> = {
  busy: 486,
  unreachable: 503,
  'not-available': 302,
  declined: 603,
  unknown: 404,
};

const REJECT_STATUS: Readonly<Record<RejectReason, number>> = {
  busy: 486,
  'not-available': 480,
  unreachable: 480,
  declined: 603,
  unknown: 480,
};

const reason = (status: number, text: string): SipHeaderLine => ['Reason', `SIP;cause=${status};text="${text}"`];

/** RFC 4458: the voicemail URI with target (the callee, escaped) and cause. */
export function voicemailContact(voicemail: string, callee: string, cause: number): string {
  const target = encodeURIComponent(callee).replace(/%3A/gi, ':').replace(/%2B/gi, '+');
  return `${voicemail};target=${target};cause=${cause}`;
}

/**
 * @param calleeUri the URI the request was for: the Contact of an accept without registered
 *   contacts (route on as dialled), and the voicemail target.
 */
export function sipAnswerOf(d: CallDecision, calleeUri: string, voicemail: string | undefined): SipAnswer {
  const contacts = (uris: readonly string[]): SipHeaderLine[] => uris.map((u) => ['Contact', `<${u}>`]);
  switch (d.action) {
    case 'accept':
      return {
        status: 302,
        headers: [...contacts(d.targets.length ? d.targets.map((t) => t.uri) : [calleeUri]), reason(302, d.urgentOverride ? 'urgent' : 'accept')],
      };
    case 'forward':
      return { status: 302, headers: [...contacts(d.targets.map((t) => t.uri)), reason(302, 'forward')] };
    case 'voicemail': {
      const cause = VOICEMAIL_CAUSE[d.reason ?? 'not-available'];
      // The owner was asked with voicemail=true only when one is configured; without, a plain rejection.
      if (!voicemail)
        return {
          status: REJECT_STATUS[d.reason ?? 'not-available'],
          headers: [reason(REJECT_STATUS[d.reason ?? 'not-available'], d.reason ?? 'not-available')],
        };
      return { status: 302, headers: [...contacts([voicemailContact(voicemail, calleeUri, cause)]), reason(302, 'voicemail')] };
    }
    case 'notify-only':
      return { status: 480, headers: [reason(480, 'notify-only')] };
    case 'reject': {
      const status = REJECT_STATUS[d.reason ?? 'not-available'];
      return { status, headers: [reason(status, d.reason ?? 'not-available')] };
    }
  }
}
