// ISUP and SIP call messages → call legs of the subscriber. A leg is keyed
// by what identifies it on the wire (CIC per point-code pair; Call-ID), so
// overlapping calls are separate legs; phases only advance, and a released
// leg is kept a while as a tombstone so a late ANM or 180 does not revive it.
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import type { DerivationConfig } from './config.ts';
import { noteActivity } from './activity.ts';
import { ISUP_PHASES, PHASE_RANK, SIP_REQUEST_PHASES, sipResponsePhase } from './callTables.ts';
import type { CallLeg, CallPhase, SubscriberPresence } from './model.ts';
import { sipRole } from './sipRole.ts';

interface LegMessage {
  key: string;
  protocol: 'isup' | 'sip';
  role: 'calling' | 'called' | null;
  phase: CallPhase;
  time: number;
  cause: number | null;
  remote: string | null;
  remoteRestricted: boolean;
}

function byStart(a: CallLeg, b: CallLeg): number {
  return a.startedAt - b.startedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Keeps every live leg and only the newest released ones. */
function prune(legs: CallLeg[], cfg: DerivationConfig): CallLeg[] {
  const released = legs.filter((l) => l.phase === 'released').sort((a, b) => b.at - a.at || byStart(a, b));
  const keep = new Set(released.slice(0, cfg.releasedCallsKept));
  return legs.filter((l) => l.phase !== 'released' || keep.has(l)).sort(byStart);
}

function newLeg(m: LegMessage): CallLeg {
  return {
    key: m.key,
    protocol: m.protocol,
    role: m.role,
    phase: m.phase,
    startedAt: m.time,
    at: m.time,
    cause: m.cause,
    answeredAt: m.phase === 'answered' ? m.time : null,
    remote: m.remote,
    remoteRestricted: m.remoteRestricted,
  };
}

/** The leg after message m, or undefined when m changes nothing. */
function advanceLeg(leg: CallLeg | undefined, m: LegMessage): CallLeg | undefined {
  if (!leg) return newLeg(m);
  if (leg.phase === 'released') {
    // A circuit carries one call at a time: a later IAM on it is a new call. SIP Call-IDs are not reused.
    return m.protocol === 'isup' && m.phase === 'setup' && m.time > leg.at ? newLeg(m) : undefined;
  }
  if (m.protocol === 'isup' && m.phase === 'setup' && m.time > leg.at && leg.phase !== 'setup') return newLeg(m); // release was lost
  if (PHASE_RANK[m.phase] <= PHASE_RANK[leg.phase]) return undefined;
  return {
    ...leg,
    phase: m.phase,
    at: Math.max(leg.at, m.time),
    cause: m.cause ?? leg.cause,
    role: leg.role ?? m.role,
    answeredAt: leg.answeredAt ?? (m.phase === 'answered' ? m.time : null),
    // The IAM (or INVITE) names the other party; a later message only fills in what it lacked.
    remote: leg.remote ?? m.remote,
    remoteRestricted: leg.remoteRestricted || m.remoteRestricted,
  };
}

function applyLeg(s: SubscriberPresence, m: LegMessage, cfg: DerivationConfig): SubscriberPresence {
  const i = s.calls.findIndex((l) => l.key === m.key);
  const leg = i >= 0 ? s.calls[i] : undefined;
  const next = advanceLeg(leg, m);
  if (!next) return s;
  const legs = s.calls.slice();
  if (i >= 0) legs[i] = next;
  else legs.push(next);
  let out: SubscriberPresence = { ...s, calls: prune(legs, cfg) };
  if (next.phase === 'setup' && m.role) out = noteActivity(out, m.role === 'calling' ? 'call-made' : 'call-received', m.time);
  return out;
}

export function applyIsup(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const i = e.isup;
  const phase = ISUP_PHASES[e.message];
  if (!i || !phase) return s;
  // CICs are numbered per point-code pair, whichever direction the message goes.
  const [a, b] = i.opc < i.dpc ? [i.opc, i.dpc] : [i.dpc, i.opc];
  const role = i.role === 'calling' || i.role === 'called' ? i.role : null;
  // The other party: the called number for our outgoing call, the calling number (and its presentation) for an incoming one.
  const remote = role === 'calling' ? i.called : role === 'called' ? i.calling : null;
  const remoteRestricted = role === 'called' && i.callingPresentation === 'restricted';
  const out = applyLeg(
    s,
    { key: `isup:${a}-${b}:${i.cic}`, protocol: 'isup', role, phase, time: e.time, cause: phase === 'released' ? i.cause : null, remote, remoteRestricted },
    cfg,
  );
  return { ...out, network: { ...out.network, seenAt: Math.max(out.network.seenAt ?? e.time, e.time) } };
}

/** RFC 3323: privacy values by which a sender asks not to be identified (none and session do not hide who it is). */
const HIDING_PRIVACY = new Set(['id', 'user', 'header']);

/** The caller asked not to be shown: a hiding Privacy value, or the anonymous From of RFC 3323 §4.1.1.3. */
function callerHidden(sip: NonNullable<SignalingEvent['sip']>): boolean {
  const values = (sip.privacy ?? '').split(/[;,]/).map((v) => v.trim().toLowerCase());
  return values.some((v) => HIDING_PRIVACY.has(v)) || /^sips?:anonymous@/i.test(sip.from ?? '');
}

export function applySipCall(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const sip = e.sip;
  if (!sip) return s;
  const phase = e.kind === 'request' ? SIP_REQUEST_PHASES[sip.method] : sip.status !== null ? sipResponsePhase(sip.method, sip.status) : null;
  if (!phase) return s;
  const role = sipRole(e);
  return applyLeg(
    s,
    {
      key: `sip:${sip.callId}`,
      protocol: 'sip',
      role,
      remote: role === 'calling' ? sip.to : role === 'called' ? sip.from : null,
      remoteRestricted: role === 'called' && callerHidden(sip),
      phase,
      time: e.time,
      cause: phase === 'released' && e.kind === 'response' && sip.method === 'INVITE' ? sip.status : null,
    },
    cfg,
  );
}

/** Releases live legs last touched at or before t (an assumedIdle report, a stuck-call timer). */
export function releaseLegsBefore(s: SubscriberPresence, t: number, cfg?: DerivationConfig): SubscriberPresence {
  if (!s.calls.some((l) => l.phase !== 'released' && l.at <= t)) return s;
  const legs = s.calls.map((l) => (l.phase !== 'released' && l.at <= t ? { ...l, phase: 'released' as const, at: t } : l));
  return { ...s, calls: cfg ? prune(legs, cfg) : legs };
}
