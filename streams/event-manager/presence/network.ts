// MAP signaling → network facet (attach / detach / purge, serving node,
// reported subscriber state), location and SMS/call activity. Each network
// fact carries its capture time; facts older than the facet's are ignored.
import type { MapFacts, SignalingEvent } from '../../../schemas/generated/records.ts';
import type { DerivationConfig } from './config.ts';
import { noteActivity } from './activity.ts';
import { releaseLegsBefore } from './calls.ts';
import { ACTIVITY_INVOKES, ATTACH_OPERATIONS, ATTACH_REFUSED_ERRORS, ROUTING_OPERATIONS, SUBSCRIBER_STATES, UNREACHABLE_ERRORS } from './mapTables.ts';
import type { Domain, NetworkFacet, NetworkStateName, ServingNode, SubscriberPresence } from './model.ts';

type Patch = Partial<Omit<NetworkFacet, 'at' | 'since' | 'seenAt'>>;

/** Applies a network fact at time t unless the facet already reflects something newer. */
function fact(s: SubscriberPresence, t: number, patch: Patch): SubscriberPresence {
  const n = s.network;
  if (n.at !== null && t < n.at) return s;
  const state = patch.state ?? n.state;
  return { ...s, network: { ...n, ...patch, state, at: t, since: state !== n.state || n.since === null ? t : n.since } };
}

function withNode(domain: Domain, node: ServingNode | null): Patch {
  return domain === 'cs' ? { vlr: node } : { sgsn: node };
}

/** State once a domain's node is dropped: still attached while the other domain holds. */
function afterLeaving(n: NetworkFacet, domain: Domain, leftState: NetworkStateName): NetworkStateName {
  const other = domain === 'cs' ? n.sgsn : n.vlr;
  return other ? 'attached' : leftState;
}

function attachInvoke(s: SubscriberPresence, e: SignalingEvent, m: MapFacts, domain: Domain, cfg: DerivationConfig): SubscriberPresence {
  const n = s.network;
  const node: ServingNode = { number: (domain === 'cs' ? m.vlrNumber : m.sgsnNumber) ?? null, pointCode: m.opc };
  const mscNumber = domain === 'cs' ? m.mscNumber : null;
  if (n.at !== null && e.time < n.at) {
    // A late invoke still names the node an earlier-seen result attached without naming it.
    const current = domain === 'cs' ? n.vlr : n.sgsn;
    const recent = n.since !== null && n.since - e.time <= cfg.pendingAttachMs;
    if (n.state === 'attached' && current && current.number === null && recent && node.number !== null) {
      const patch = withNode(domain, { number: node.number, pointCode: current.pointCode ?? node.pointCode });
      return { ...s, network: { ...n, ...patch, mscNumber: domain === 'cs' ? (n.mscNumber ?? mscNumber) : n.mscNumber } };
    }
    return s;
  }
  const previous = n.state === 'attaching' ? (n.pending?.previous ?? 'unknown') : n.state;
  return fact(s, e.time, {
    // An attached subscriber updating its location stays attached (periodic update or move).
    state: n.state === 'attached' ? 'attached' : 'attaching',
    pending: { domain, node, mscNumber, invokeId: m.invokeId, at: e.time, previous },
  });
}

function attachResult(s: SubscriberPresence, e: SignalingEvent, m: MapFacts, domain: Domain): SubscriberPresence {
  const n = s.network;
  const p = n.pending && n.pending.domain === domain ? n.pending : null;
  // The result travels HLR → VLR/SGSN: its destination point code is the serving node's.
  const node: ServingNode = p ? { number: p.node.number, pointCode: p.node.pointCode ?? m.dpc } : { number: null, pointCode: m.dpc };
  return fact(s, e.time, {
    state: 'attached',
    reason: null,
    pending: p ? null : n.pending,
    ...withNode(domain, node),
    ...(domain === 'cs' ? { mscNumber: p?.mscNumber ?? null } : {}),
  });
}

function attachError(s: SubscriberPresence, e: SignalingEvent, m: MapFacts, domain: Domain): SubscriberPresence {
  const n = s.network;
  const p = n.pending && n.pending.domain === domain ? n.pending : null;
  const error = m.error ?? 'error';
  if (ATTACH_REFUSED_ERRORS.has(error)) {
    return fact(s, e.time, { state: afterLeaving(n, domain, 'detached'), reason: error, pending: null, ...withNode(domain, null) });
  }
  const state = n.state === 'attaching' ? (p?.previous ?? 'unknown') : n.state;
  return fact(s, e.time, { state, reason: error, pending: p ? null : n.pending });
}

/** Which domain a cancelLocation to point code `dpc` concerns, or null when it is for some other node. */
function cancelledDomain(n: NetworkFacet, dpc: number | null): Domain | 'all' | null {
  if (dpc !== null && n.vlr?.pointCode === dpc) return 'cs';
  if (dpc !== null && n.sgsn?.pointCode === dpc) return 'ps';
  const knownPc = n.vlr?.pointCode ?? n.sgsn?.pointCode ?? null;
  return knownPc === null ? 'all' : null;
}

function cancelLocation(s: SubscriberPresence, e: SignalingEvent, m: MapFacts): SubscriberPresence {
  const n = s.network;
  // During an attach elsewhere the HLR cancels the old node: a move, not a detach.
  if (n.pending && n.pending.node.pointCode !== m.dpc) return s;
  const d = cancelledDomain(n, m.dpc);
  if (d === null) return s;
  if (d === 'all') return fact(s, e.time, { state: 'detached', reason: 'cancelLocation', vlr: null, sgsn: null, mscNumber: null, pending: null });
  return fact(s, e.time, { state: afterLeaving(n, d, 'detached'), reason: 'cancelLocation', ...withNode(d, null), ...(d === 'cs' ? { mscNumber: null } : {}) });
}

function purge(s: SubscriberPresence, e: SignalingEvent, m: MapFacts): SubscriberPresence {
  const n = s.network;
  const domain: Domain = m.sgsnNumber && !m.vlrNumber ? 'ps' : 'cs';
  const current = domain === 'cs' ? n.vlr : n.sgsn;
  const by = domain === 'cs' ? m.vlrNumber : m.sgsnNumber;
  // An old VLR purging after the subscriber moved on says nothing about the new one.
  if (current?.number && by && current.number !== by) return s;
  return fact(s, e.time, {
    state: afterLeaving(n, domain, 'purged'),
    reason: 'purgeMS',
    pending: null,
    ...withNode(domain, null),
    ...(domain === 'cs' ? { mscNumber: null } : {}),
  });
}

function interrogationResult(s: SubscriberPresence, e: SignalingEvent, m: MapFacts): SubscriberPresence {
  let out = s;
  const reported = m.subscriberState;
  if (reported) {
    const state = SUBSCRIBER_STATES[reported];
    const n = s.network;
    const vlr = m.vlrNumber ? { number: m.vlrNumber, pointCode: n.vlr?.number === m.vlrNumber ? n.vlr.pointCode : null } : n.vlr;
    if (state === 'attached') out = fact(out, e.time, { state, reason: null, reportedState: reported, vlr });
    else if (state) out = fact(out, e.time, { state: afterLeaving(n, 'cs', state), reason: reported, reportedState: reported, vlr: null, mscNumber: null });
    else out = fact(out, e.time, { reportedState: reported, vlr });
    // assumedIdle: no call now, whatever ended without our seeing its release.
    if (reported === 'assumedIdle') out = releaseLegsBefore(out, e.time);
  }
  if (m.cellGlobalId) {
    const observedAt = e.time - (m.ageOfLocation ?? 0) * 60_000;
    if (!out.location || observedAt >= out.location.observedAt) {
      out = { ...out, location: { cellGlobalId: m.cellGlobalId, ageMinutes: m.ageOfLocation, observedAt, reportedAt: e.time } };
    }
  }
  return out;
}

/** SRI / SRI-SM results name the MSC serving the subscriber: evidence it is registered there. */
function routingResult(s: SubscriberPresence, e: SignalingEvent, m: MapFacts): SubscriberPresence {
  const msc = m.mscNumber ?? m.vlrNumber;
  if (!msc) return s;
  const n = s.network;
  if (n.state === 'unknown') return fact(s, e.time, { state: 'attached', mscNumber: msc, reason: null });
  if (n.state === 'attached' && n.mscNumber !== msc) return fact(s, e.time, { mscNumber: msc });
  return s;
}

/** forwardSM (v1/v2) serves both directions: SM-RP-DA holds the IMSI for MT, SM-RP-OA the MSISDN for MO. */
function forwardSmDirection(e: SignalingEvent): 'sms-sent' | 'sms-received' | null {
  if (e.identities.msisdn) return 'sms-sent';
  if (e.identities.imsi) return 'sms-received';
  return null;
}

export function applyMap(s0: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const m = e.map;
  if (!m) return s0;
  const s = { ...s0, network: { ...s0.network, seenAt: Math.max(s0.network.seenAt ?? e.time, e.time) } };
  const domain = ATTACH_OPERATIONS[e.message];
  if (domain) {
    if (e.kind === 'invoke') return attachInvoke(s, e, m, domain, cfg);
    if (e.kind === 'result') return attachResult(s, e, m, domain);
    if (e.kind === 'error') return attachError(s, e, m, domain);
    return s;
  }
  if (e.kind === 'invoke') {
    if (e.message === 'cancelLocation') return cancelLocation(s, e, m);
    if (e.message === 'purgeMS') return purge(s, e, m);
    const kind = e.message === 'forwardSM' ? forwardSmDirection(e) : ACTIVITY_INVOKES[e.message];
    return kind ? noteActivity(s, kind, e.time) : s;
  }
  if (e.kind === 'result') {
    if (e.message === 'anyTimeInterrogation') return interrogationResult(s, e, m);
    if (e.message === 'sendRoutingInfo' || e.message === 'sendRoutingInfoForSM') return routingResult(s, e, m);
    return s;
  }
  if (e.kind === 'error' && ROUTING_OPERATIONS.has(e.message) && m.error && UNREACHABLE_ERRORS.has(m.error)) {
    return fact(s, e.time, { state: afterLeaving(s.network, 'cs', 'detached'), reason: m.error, vlr: null, mscNumber: null });
  }
  return s;
}
