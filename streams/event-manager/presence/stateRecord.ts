// SubscriberPresence ⇄ the Avro PresenceState record of the store's
// changelog. The record also carries the summary fields (networkState,
// servingNode, callState) flat, for readers of the changelog that do not run
// this code; published PIDF is kept as text and parsed again when first used.
import { parseDialogInfo, type DialogInfoDocument } from '../../../presence-document/dialogInfo.ts';
import type { PresenceDocument } from '../../../presence-document/model.ts';
import { parsePidf } from '../../../presence-document/parse.ts';
import type { PresenceState, StateServingNode } from '../../../schemas/generated/records.ts';
import {
  callStateOf,
  servingNodeOf,
  type ActivityKind,
  type CallLeg,
  type CallPhase,
  type DialogPublication,
  type Domain,
  type NetworkStateName,
  type Publication,
  type ServingNode,
  type SubscriberPresence,
} from './model.ts';

const NETWORK_STATES: ReadonlySet<string> = new Set(['attached', 'attaching', 'detached', 'purged', 'unknown']);
const PHASES: ReadonlySet<string> = new Set(['setup', 'alerting', 'answered', 'released']);

const node = (n: StateServingNode | null): ServingNode | null => (n ? { number: n.number, pointCode: n.pointCode } : null);
const networkState = (s: string): NetworkStateName => (NETWORK_STATES.has(s) ? (s as NetworkStateName) : 'unknown');

/** The presence part of the changelog record (the event manager adds its watchers). */
type PresenceRecord = Omit<
  PresenceState,
  'watchers' | 'notifiedPidf' | 'notifiedDialogs' | 'notifiedGeolocation' | 'locationAskedAt' | 'availabilityBoundaryAt' | 'profilesVersion' | 'messages'
>;

export function toRecord(s: SubscriberPresence): PresenceRecord {
  const n = s.network;
  return {
    subscriber: s.subscriber,
    version: s.version,
    networkState: n.state,
    networkSince: n.since,
    servingNode: servingNodeOf(s),
    callState: callStateOf(s),
    eventsSeen: s.eventsSeen,
    lastEventId: s.lastEventId,
    lastEventTime: s.lastEventTime,
    updatedAt: s.updatedAt,
    networkAt: n.at,
    networkSeenAt: n.seenAt,
    networkReason: n.reason,
    reportedSubscriberState: n.reportedState,
    vlr: n.vlr ? { ...n.vlr } : null,
    mscNumber: n.mscNumber,
    sgsn: n.sgsn ? { ...n.sgsn } : null,
    pendingAttach: n.pending
      ? {
          domain: n.pending.domain,
          node: { ...n.pending.node },
          mscNumber: n.pending.mscNumber,
          invokeId: n.pending.invokeId,
          at: n.pending.at,
          previousState: n.pending.previous,
        }
      : null,
    location: s.location ? { ...s.location } : null,
    geolocation: s.geolocation ? { ...s.geolocation } : null,
    registrationAt: s.registration.at,
    contacts: s.registration.contacts.map((c) => ({ ...c })),
    calls: s.calls.map((c) => ({ ...c })),
    activity: { ...s.activity } as Record<string, number>,
    publications: s.publications.map((p) => ({ etag: p.etag, pidf: p.pidf, publishedAt: p.publishedAt, expiresAt: p.expiresAt })),
    pendingPublishes: s.pendingPublishes.map((p) => ({ ...p })),
    // Duplicates are a partition's window now (duplicateWindow.ts); the field stays for older readers.
    recentEventIds: [],
    dialogPublications: s.dialogPublications.map((p) => ({ etag: p.etag, body: p.body, publishedAt: p.publishedAt, expiresAt: p.expiresAt })),
  };
}

/** Restores a state; a record written before these fields existed reads with their defaults. */
export function fromRecord(r: PresenceRecord): SubscriberPresence {
  const calls: CallLeg[] = r.calls
    .filter((c) => PHASES.has(c.phase))
    .map((c) => ({
      key: c.key,
      protocol: c.protocol === 'sip' ? 'sip' : 'isup',
      role: c.role === 'calling' || c.role === 'called' ? c.role : null,
      phase: c.phase as CallPhase,
      startedAt: c.startedAt,
      at: c.at,
      cause: c.cause,
      answeredAt: c.answeredAt,
      remote: c.remote,
      remoteRestricted: c.remoteRestricted,
    }));
  const p = r.pendingAttach;
  return {
    subscriber: r.subscriber,
    version: r.version,
    updatedAt: r.updatedAt,
    network: {
      state: networkState(r.networkState),
      since: r.networkSince,
      at: r.networkAt,
      seenAt: r.networkSeenAt,
      reason: r.networkReason,
      reportedState: r.reportedSubscriberState,
      vlr: node(r.vlr),
      // A record from before the node fields carries only the flat servingNode.
      mscNumber: r.mscNumber ?? (r.vlr || r.sgsn ? null : r.servingNode),
      sgsn: node(r.sgsn),
      pending: p
        ? {
            domain: (p.domain === 'ps' ? 'ps' : 'cs') as Domain,
            node: node(p.node)!,
            mscNumber: p.mscNumber,
            invokeId: p.invokeId,
            at: p.at,
            previous: networkState(p.previousState),
          }
        : null,
    },
    location: r.location ? { ...r.location } : null,
    geolocation: r.geolocation ? { ...r.geolocation } : null,
    registration: { at: r.registrationAt, contacts: r.contacts.map((c) => ({ ...c })) },
    calls,
    activity: { ...r.activity } as Partial<Record<ActivityKind, number>>,
    publications: r.publications.map(restoredPublication),
    pendingPublishes: r.pendingPublishes.map((x) => ({ ...x })),
    dialogPublications: (r.dialogPublications ?? []).map(restoredDialogPublication),
    eventsSeen: r.eventsSeen,
    lastEventId: r.lastEventId,
    lastEventTime: r.lastEventTime,
  };
}

// A committed subscriber is decoded from its changelog bytes on every read (kafka/partitionStore.ts),
// and most reads (a delivery report, a signal that changes nothing) never look at the published
// documents: each is parsed when first used, not on every decode (the PIDF parse was a third of the
// event manager's CPU in the peer benchmark).

function restoredPublication(x: PresenceState['publications'][number]): Publication {
  let document: PresenceDocument | undefined;
  return {
    etag: x.etag,
    pidf: x.pidf,
    publishedAt: x.publishedAt,
    expiresAt: x.expiresAt,
    get document() {
      return (document ??= parsePidf(x.pidf));
    },
  };
}

function restoredDialogPublication(x: NonNullable<PresenceState['dialogPublications']>[number]): DialogPublication {
  let document: DialogInfoDocument | undefined;
  return {
    ...x,
    get document() {
      return (document ??= parseDialogInfo(x.body));
    },
  };
}
