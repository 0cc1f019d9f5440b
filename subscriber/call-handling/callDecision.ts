// What the network should do with a call or message to a subscriber (issue 16
// part 5; seed 004 "connectability management": accept, reject, notify or
// forward to a number or a messaging system, from the user's connectability,
// its availability mode for this caller and the caller's identity; seed 003: the
// CSCF asks the presence server before routing an INVITE). A pure function of
// the callee's live state, its profiles, the instant and the request, so the
// owning event manager answers from its store and tests pin every branch.
import { activeProfile, listDecision, modeAt, type CommunicationMode, type UserProfiles } from '../availability/availabilityProfile.ts';
import { watcherIdentity } from '../identity/watcherIdentity.ts';

export const MEDIA = ['voice', 'video', 'message'] as const;
/** What the caller wants to open: a call (voice, video) or a written message (SIP MESSAGE, SMS). */
export type Medium = (typeof MEDIA)[number];

/** The callee as the owning event manager knows it right now. */
export interface CalleeState {
  /** Presence knows anything at all (a network fact, a registration, a publication). */
  readonly known: boolean;
  /** A terminal is reachable: attached in a network domain, or a live SIP contact. */
  readonly reachable: boolean;
  /** Its calls: in one (answered), being rung, or none. */
  readonly call: 'idle' | 'alerting' | 'in-call';
  /** Its registered SIP contacts, where a call put through goes. */
  readonly contacts: readonly string[];
  /** Its own number (+E164) when it has one: the mobile terminal, SMS and MMS. */
  readonly number?: string;
}

export interface CallRequest {
  /** The caller's URI (asserted identity, else From); absent: anonymous. */
  readonly caller?: string;
  /** Default voice. */
  readonly medium?: Medium;
  /** Seed 004 "urgent messages": from a caller the callee authorised, routed whatever the availability. */
  readonly urgent?: boolean;
  /** When the profile's rules are evaluated (ms since the epoch). */
  readonly at: number;
  /** The asker has a voicemail (messaging) system to send unanswerable calls to. */
  readonly voicemail?: boolean;
}

export type RejectReason = 'busy' | 'not-available' | 'unreachable' | 'declined' | 'unknown';

/** Where a forwarded or accepted call goes, as a URI the asker can put in a Contact. */
export interface CallTarget {
  readonly uri: string;
  /** number: a transfer number; terminal: the user's terminal of that communication mode; contact: a registered SIP contact. */
  readonly kind: 'number' | 'terminal' | 'contact';
  readonly terminal?: CommunicationMode;
}

export type CallAction = 'accept' | 'reject' | 'forward' | 'voicemail' | 'notify-only';

export interface CallDecision {
  readonly action: CallAction;
  /** reject: why; voicemail and notify-only: why the call is not put through. */
  readonly reason?: RejectReason;
  /** accept: the registered contacts (empty: route as dialled); forward: the transfer target(s). */
  readonly targets: readonly CallTarget[];
  /** The availability mode in force for this caller (absent when the contact lists decided). */
  readonly mode?: string;
  /** An urgent call from an authorised caller overrode the mode or the busy state. */
  readonly urgentOverride: boolean;
  /** One sentence for logs and operators. */
  readonly why: string;
}

/** Written-messaging terminals: a voice or video call cannot be transferred to them, only announced there. */
const WRITTEN: readonly CommunicationMode[] = ['sms', 'mms', 'email'];

/** Seed 004: an authorised caller is one the user named on its allowed list (not merely "others: allowed"). */
function authorised(profiles: UserProfiles, caller: string | undefined): boolean {
  if (caller === undefined) return false;
  const who = watcherIdentity(caller);
  return activeProfile(profiles).lists.allowed.some((c) => watcherIdentity(c) === who);
}

/** The URI of the user's terminal of a communication mode, when known: its number for mobile/SMS/MMS, its SIP contacts for VoIP. */
function terminalTargets(callee: CalleeState, terminal: CommunicationMode): CallTarget[] {
  if ((terminal === 'mobile' || terminal === 'sms' || terminal === 'mms') && callee.number)
    return [{ uri: `tel:${callee.number}`, kind: 'terminal', terminal }];
  if (terminal === 'voip') return callee.contacts.map((uri) => ({ uri, kind: 'terminal', terminal }));
  // fixed and e-mail addresses are not in the profile: nothing to send the call to.
  return [];
}

const contactTargets = (callee: CalleeState): CallTarget[] => callee.contacts.map((uri) => ({ uri, kind: 'contact' }));

/**
 * In order:
 *  1. presence knows nothing → reject unknown;
 *  2. the caller is on the denied list → reject declined;
 *  3. an urgent call from an authorised caller to a reachable callee → accept, whatever the mode or a call in progress;
 *  4. the mode transfers → forward to the number / the terminal (a voice or video call to a written-messaging
 *     terminal is announced there: notify-only, or voicemail when there is one; a terminal without a known
 *     address falls through to "not available");
 *  5. the mode is not-available → voicemail, else reject not-available;
 *  6. no terminal reachable → voicemail, else reject unreachable;
 *  7. in a call (answered) → voicemail, else reject busy (a call still ringing is no busy: the network's call waiting decides);
 *  8. accept, to the registered contacts.
 * Modes unknown and hidden hide the state from watchers; they do not stop calls.
 */
export function decideCall(callee: CalleeState, profiles: UserProfiles, request: CallRequest): CallDecision {
  const medium = request.medium ?? 'voice';
  const none = { targets: [], urgentOverride: false } as const;
  const unanswered = (reason: RejectReason, why: string, mode?: string): CallDecision =>
    request.voicemail
      ? { action: 'voicemail', reason, ...none, ...(mode ? { mode } : {}), why: `${why}: to voicemail` }
      : { action: 'reject', reason, ...none, ...(mode ? { mode } : {}), why };
  if (!callee.known) return { action: 'reject', reason: 'unknown', ...none, why: 'presence knows nothing of the callee yet' };
  const profile = activeProfile(profiles);
  if (listDecision(profile.lists, request.caller) === 'denied')
    return { action: 'reject', reason: 'declined', ...none, why: 'the caller is on the denied list' };
  const { mode } = modeAt(profile, request.at, request.caller);
  const m = mode.name;

  if (request.urgent && authorised(profiles, request.caller) && callee.reachable) {
    const overrides = mode.state.kind === 'not-available' || mode.state.kind === 'transfer' || callee.call === 'in-call';
    return {
      action: 'accept',
      targets: contactTargets(callee),
      mode: m,
      urgentOverride: overrides,
      why: overrides
        ? `urgent call from an authorised caller: put through despite mode ${m}${callee.call === 'in-call' ? ' and a call in progress' : ''}`
        : 'urgent call from an authorised caller',
    };
  }

  if (mode.state.kind === 'transfer') {
    const to = mode.state.to;
    if ('number' in to)
      return {
        action: 'forward',
        targets: [{ uri: numberUri(to.number), kind: 'number' }],
        mode: m,
        urgentOverride: false,
        why: `mode ${m} transfers to ${to.number}`,
      };
    if (medium !== 'message' && WRITTEN.includes(to.terminal)) {
      return request.voicemail
        ? { action: 'voicemail', reason: 'not-available', ...none, mode: m, why: `mode ${m} takes only written messages (${to.terminal}): to voicemail` }
        : {
            action: 'notify-only',
            reason: 'not-available',
            ...none,
            mode: m,
            why: `mode ${m} takes only written messages (${to.terminal}): the user is told of the call there`,
          };
    }
    const targets = terminalTargets(callee, to.terminal);
    if (targets.length) return { action: 'forward', targets, mode: m, urgentOverride: false, why: `mode ${m} transfers to the ${to.terminal} terminal` };
    return unanswered('not-available', `mode ${m} transfers to the ${to.terminal} terminal, whose address is unknown`, m);
  }
  if (mode.state.kind === 'not-available') return unanswered('not-available', `mode ${m} is not available`, m);
  if (!callee.reachable) return unanswered('unreachable', 'no terminal of the callee is reachable', m);
  if (callee.call === 'in-call' && medium !== 'message') return unanswered('busy', 'the callee is in a call', m);
  return { action: 'accept', targets: contactTargets(callee), mode: m, urgentOverride: false, why: `mode ${m}: put through` };
}

/** A transfer number as a tel: URI (a global number keeps its +; anything else is passed as written). */
function numberUri(n: string): string {
  return /^(tel|sips?):/i.test(n) ? n : `tel:${n.replace(/[\s().-]/g, '')}`;
}
