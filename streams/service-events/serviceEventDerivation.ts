// Service events from what the gateway already carries (issue 17 parts 1 and 6),
// pure: a signaling event, a current-presence record or an availability-profile
// change in, the subscriber's deriver state and the ServiceEvents out. Calls are
// about the called subscriber only (an incoming call, answered or missed); the
// state keeps its calls offered and not yet over, since "missed" is a release
// that came before any answer. Event ids are derived from the input's own stable
// id, so a replay yields the same ids and the event service drops repeats.
import type {
  AvailabilityProfileChange,
  CallEventFacts,
  OpenCall,
  Presence,
  ServiceEvent,
  ServiceEventDeriverState,
  SignalingEvent,
} from '../../schemas/generated/records.ts';
import { serviceEvent } from '../../schemas/serviceEventCatalogue.ts';

/** Calls silent this long are forgotten (an answered call may last hours; a lost REL must not keep state forever). */
export const CALL_IDLE_MS = 4 * 60 * 60 * 1000;
/** At most this many open calls per subscriber (oldest dropped first): bounds the state of a flooded number. */
export const MAX_OPEN_CALLS = 32;

export interface Derived {
  state: ServiceEventDeriverState;
  events: ServiceEvent[];
}

export function newDeriverState(subscriber: string): ServiceEventDeriverState {
  return { subscriber, calls: [], registered: null };
}

export function isEmptyState(s: ServiceEventDeriverState): boolean {
  return s.calls.length === 0 && s.registered === null;
}

const SOURCE_SIGNALING = 'deriver:signaling-events';

/** RFC 3323: Privacy values by which a caller asks not to be identified. */
const HIDING_PRIVACY = new Set(['id', 'user', 'header']);

function sipCallerHidden(sip: NonNullable<SignalingEvent['sip']>): boolean {
  const values = (sip.privacy ?? '').split(/[;,]/).map((v) => v.trim().toLowerCase());
  return values.some((v) => HIDING_PRIVACY.has(v)) || /^sips?:anonymous@/i.test(sip.from ?? '');
}

/**
 * The party this event was built for: taps/eventBuilder.ts ends the id with the
 * party's role (calling | called | subject), and ISUP facts name it too. SIP facts
 * do not, and From/To cannot be compared with the key without the numbering plan.
 */
function partyRole(e: SignalingEvent): string {
  return e.isup?.role ?? e.eventId.slice(e.eventId.lastIndexOf(':') + 1);
}

function isupCallKey(isup: NonNullable<SignalingEvent['isup']>): string {
  const [a, b] = isup.opc < isup.dpc ? [isup.opc, isup.dpc] : [isup.dpc, isup.opc];
  return `isup:${a}|${b}|${isup.cic}`;
}

function callFacts(c: OpenCall, extra: Partial<Pick<CallEventFacts, 'cause' | 'status'>> = {}): CallEventFacts {
  return {
    callId: c.callId,
    protocol: c.protocol,
    caller: c.caller,
    callee: c.callee,
    offeredAt: c.offeredAt,
    cause: extra.cause ?? null,
    status: extra.status ?? null,
  };
}

function callEvent(e: SignalingEvent, type: string, c: OpenCall, extra?: Partial<Pick<CallEventFacts, 'cause' | 'status'>>): ServiceEvent {
  return serviceEvent(
    { eventId: `${e.eventId}:${type}`, type, subject: e.subscriber, time: e.time, source: SOURCE_SIGNALING, origin: e.eventId },
    callFacts(c, extra),
  );
}

type CallStep =
  | { kind: 'offer'; call: OpenCall }
  | { kind: 'answer'; key: string }
  | { kind: 'miss'; key: string; cause?: number | null; status?: number | null }
  | { kind: 'end'; key: string };

/** What a signaling event means for the called subscriber's calls, or null. */
function callStep(e: SignalingEvent): CallStep | null {
  if (partyRole(e) !== 'called') return null;
  if (e.protocol === 'isup' && e.isup) {
    const key = isupCallKey(e.isup);
    switch (e.message) {
      case 'IAM': {
        const caller = e.isup.callingPresentation === 'restricted' || e.isup.callingPresentation === 'unavailable' ? null : e.isup.calling;
        return {
          kind: 'offer',
          call: { key, callId: `${key}@${e.time}`, protocol: 'isup', caller, callee: e.isup.called, offeredAt: e.time, answered: false, lastAt: e.time },
        };
      }
      case 'ANM':
      case 'CON':
        return { kind: 'answer', key };
      case 'REL':
        return { kind: 'miss', key, cause: e.isup.cause };
      case 'RLC':
      case 'RSC':
        return { kind: 'end', key };
      default:
        return null;
    }
  }
  if (e.protocol === 'sip' && e.sip) {
    const sip = e.sip;
    const key = `sip:${sip.callId}`;
    if (e.kind === 'request') {
      if (sip.method === 'INVITE') {
        const call: OpenCall = {
          key,
          callId: key,
          protocol: 'sip',
          caller: sipCallerHidden(sip) ? null : sip.from,
          callee: sip.to,
          offeredAt: e.time,
          answered: false,
          lastAt: e.time,
        };
        return { kind: 'offer', call };
      }
      if (sip.method === 'CANCEL') return { kind: 'miss', key };
      if (sip.method === 'BYE') return { kind: 'end', key };
      return null;
    }
    if (sip.method !== 'INVITE' || sip.status === null || sip.status < 200) return null;
    if (sip.status < 300) return { kind: 'answer', key };
    // An authentication challenge is followed by the same call's new INVITE; a redirect sends the call elsewhere.
    if (sip.status === 401 || sip.status === 407) return null;
    if (sip.status < 400) return { kind: 'end', key };
    return { kind: 'miss', key, status: sip.status };
  }
  return null;
}

function applyCall(state: ServiceEventDeriverState, e: SignalingEvent, step: CallStep): Derived {
  const calls = state.calls.filter((c) => e.time - c.lastAt <= CALL_IDLE_MS);
  if (step.kind === 'offer') {
    const known = calls.find((c) => c.key === step.call.key);
    // A second INVITE of a known call (after a challenge, a re-INVITE) offers nothing new; an ISUP IAM on a known circuit is a new call.
    if (known && step.call.protocol === 'sip') return { state: { ...state, calls }, events: [] };
    const kept = calls.filter((c) => c.key !== step.call.key).slice(-(MAX_OPEN_CALLS - 1));
    return { state: { ...state, calls: [...kept, step.call] }, events: [callEvent(e, 'call.offered', step.call)] };
  }
  const call = calls.find((c) => c.key === step.key);
  if (!call) return { state: { ...state, calls }, events: [] };
  const others = calls.filter((c) => c !== call);
  if (step.kind === 'answer') {
    if (call.answered) return { state: { ...state, calls }, events: [] };
    const answered = { ...call, answered: true, lastAt: e.time };
    return { state: { ...state, calls: [...others, answered] }, events: [callEvent(e, 'call.answered', answered)] };
  }
  if (step.kind === 'miss' && !call.answered) {
    return { state: { ...state, calls: others }, events: [callEvent(e, 'call.missed', call, { cause: step.cause ?? null, status: step.status ?? null })] };
  }
  return { state: { ...state, calls: others }, events: [] };
}

/** SIP REGISTER answered 200 (the bindings' expiry), MAP updateLocation answered, purgeMS: registered or not. */
function registrationOf(e: SignalingEvent): { state: string; protocol: string; via: string | null; expires: number | null } | null {
  if (e.protocol === 'sip' && e.sip?.method === 'REGISTER' && e.sip.status === 200) {
    const contactExpires = e.sip.contacts.map((c) => /;expires=(\d+)/.exec(c)?.[1]).find((x) => x !== undefined);
    const expires = contactExpires !== undefined ? Number(contactExpires) : e.sip.expires;
    const state = e.sip.contacts.length > 0 && (expires === null || expires > 0) ? 'registered' : 'unregistered';
    return { state, protocol: 'sip', via: e.sip.contacts[0]?.replace(/;expires=\d+$/, '') ?? null, expires };
  }
  if (e.protocol === 'map' && e.message === 'updateLocation' && e.kind === 'result')
    return { state: 'registered', protocol: 'map', via: e.map?.hlrNumber ?? null, expires: null };
  if (e.protocol === 'map' && e.message === 'purgeMS' && e.kind === 'invoke')
    return { state: 'unregistered', protocol: 'map', via: e.map?.vlrNumber ?? null, expires: null };
  return null;
}

/** MAP mt-ForwardSM to the subscriber, or an SMS over IP (TS 24.341) SIP MESSAGE to it. */
function smsOf(e: SignalingEvent): ServiceEvent | null {
  let facts: { protocol: string; originator: string | null; servingNode: string | null } | null = null;
  if (e.protocol === 'map' && e.message === 'mt-ForwardSM' && e.kind === 'invoke')
    facts = { protocol: 'map', originator: null, servingNode: e.map?.mscNumber ?? null };
  else if (
    e.protocol === 'sip' &&
    e.kind === 'request' &&
    e.sip?.method === 'MESSAGE' &&
    partyRole(e) === 'called' &&
    e.sip.contentType === 'application/vnd.3gpp.sms'
  )
    facts = { protocol: 'sip', originator: sipCallerHidden(e.sip) ? null : e.sip.from, servingNode: null };
  if (!facts) return null;
  return serviceEvent(
    { eventId: `${e.eventId}:sms.received`, type: 'sms.received', subject: e.subscriber, time: e.time, source: SOURCE_SIGNALING, origin: e.eventId },
    facts,
  );
}

/**
 * A messaging system's facts for the subscriber (signaling-events' `messaging`: a mailbox
 * summary or a new message, from the taps, the availability service's HTTP publish or a SIP
 * PUBLISH): message.waiting per message class of a summary, message.received per new message.
 */
function messagingOf(e: SignalingEvent): ServiceEvent[] {
  const m = e.messaging;
  if (!m) return [];
  const base = { subject: e.subscriber, time: e.time, source: SOURCE_SIGNALING, origin: e.eventId };
  const out: ServiceEvent[] = [];
  if (m.summary) {
    const classes = m.summary.classes.length > 0 ? m.summary.classes : [{ context: 'none', newCount: 0, oldCount: 0 }];
    for (const c of classes)
      out.push(
        serviceEvent(
          { ...base, eventId: `${e.eventId}:message.waiting:${c.context}`, type: 'message.waiting' },
          {
            messagesWaiting: m.summary.waiting,
            account: m.summary.account,
            messageClass: c.context,
            newMessages: Math.min(c.newCount, 2 ** 31 - 1),
            oldMessages: Math.min(c.oldCount, 2 ** 31 - 1),
          },
        ),
      );
  }
  if (m.notice)
    out.push(
      serviceEvent(
        // By the message's own id: the same message announced again (a retried publish, a replay) is the same event.
        { ...base, eventId: `message:${e.subscriber}:${m.notice.messageId}`, type: 'message.received' },
        {
          messageId: m.notice.messageId,
          contentType: m.notice.contentType,
          origin: m.notice.origin,
          contact: m.notice.contact,
          context: m.notice.context,
          subject: m.notice.subject,
        },
      ),
    );
  return out;
}

export function applySignaling(state: ServiceEventDeriverState, e: SignalingEvent): Derived {
  const step = callStep(e);
  if (step) return applyCall(state, e, step);
  const messaging = messagingOf(e);
  const sms = smsOf(e);
  if (sms) return { state, events: [sms, ...messaging] };
  if (messaging.length > 0) return { state, events: messaging };
  const reg = registrationOf(e);
  if (reg && reg.state !== state.registered) {
    const ev = serviceEvent(
      {
        eventId: `${e.eventId}:registration.changed`,
        type: 'registration.changed',
        subject: e.subscriber,
        time: e.time,
        source: SOURCE_SIGNALING,
        origin: e.eventId,
      },
      reg,
    );
    return { state: { ...state, registered: reg.state }, events: [ev] };
  }
  return { state, events: [] };
}

/** Every current-presence record is a new version: one presence.changed each. */
export function presenceEvent(p: Presence, origin: string): ServiceEvent {
  return serviceEvent(
    {
      eventId: `presence:${p.subscriber}:${p.version}`,
      type: 'presence.changed',
      subject: p.subscriber,
      time: p.updatedAt,
      source: 'deriver:current-presence',
      origin,
    },
    {
      version: p.version,
      basic: p.basic,
      connectability: p.connectability,
      networkState: p.networkState,
      callState: p.callState,
      activities: p.activities,
      note: p.note,
    },
  );
}

export function availabilityEvent(c: AvailabilityProfileChange, origin: string): ServiceEvent {
  let active: string | null = null;
  try {
    const doc = JSON.parse(c.profiles) as { active?: unknown };
    if (typeof doc.active === 'string') active = doc.active;
  } catch {
    // The availability service validated it; a document we cannot read still says that something changed.
  }
  return serviceEvent(
    {
      eventId: `availability:${c.subscriber}:${c.version}`,
      type: 'availability.changed',
      subject: c.subscriber,
      time: c.changedAt,
      source: 'deriver:availability-profiles',
      origin,
    },
    { version: c.version, activeProfile: active, cause: c.cause },
  );
}
