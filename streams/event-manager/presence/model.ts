// One subscriber's presence as the event manager keeps it: the facts each
// signal gives (README "Which signal yields which presence fact"), each facet
// with the capture time it reflects, so late events cannot regress it, and
// absolute due times, so timers survive a move to another event manager.
// Plain immutable data: derive/timers return new objects.
import type { DialogInfoDocument } from '../../../presence-document/dialogInfo.ts';
import type { PresenceDocument } from '../../../presence-document/model.ts';

export type NetworkStateName = 'attached' | 'attaching' | 'detached' | 'purged' | 'unknown';
export type Domain = 'cs' | 'ps';

/** A serving VLR or SGSN: number from MAP, point code from the SS7 routing label. */
export interface ServingNode {
  readonly number: string | null;
  readonly pointCode: number | null;
}

/** An updateLocation / updateGprsLocation invoke whose result has not been seen. */
interface PendingAttach {
  readonly domain: Domain;
  readonly node: ServingNode;
  readonly mscNumber: string | null;
  readonly invokeId: number | null;
  readonly at: number;
  /** State to return to when the attach fails or times out. */
  readonly previous: NetworkStateName;
}

export interface NetworkFacet {
  readonly state: NetworkStateName;
  /** When the current state was entered. */
  readonly since: number | null;
  /** Capture time of the newest network fact applied. */
  readonly at: number | null;
  /** Last SS7 signaling about the subscriber (drives the staleness timer). */
  readonly seenAt: number | null;
  readonly reason: string | null;
  /** Last anyTimeInterrogation subscriberState (with ':reason' for netDetNotReachable). */
  readonly reportedState: string | null;
  readonly vlr: ServingNode | null;
  readonly mscNumber: string | null;
  readonly sgsn: ServingNode | null;
  readonly pending: PendingAttach | null;
}

interface LocationFacet {
  /** MCC-MNC-LAC[-CI] */
  readonly cellGlobalId: string;
  readonly ageMinutes: number | null;
  /** Report time minus age of location: when the subscriber was in that cell. */
  readonly observedAt: number;
  readonly reportedAt: number;
}

/** A position the network reported when asked (Le: MLP over the GMLC), WGS 84. */
export interface GeolocationFacet {
  readonly latitude: number;
  readonly longitude: number;
  /** Uncertainty circle in meters; null for a point. */
  readonly radiusMeters: number | null;
  /** When the subscriber was there (the answer's own time). */
  readonly observedAt: number;
  /** Positioning method as reported (CELL, A-GPS, …). */
  readonly method: string | null;
  readonly reportedAt: number;
}

export interface RegisteredContact {
  readonly uri: string;
  readonly registeredAt: number;
  readonly expiresAt: number;
}

interface RegistrationFacet {
  /** Capture time of the REGISTER 2xx the contacts come from. */
  readonly at: number | null;
  readonly contacts: readonly RegisteredContact[];
}

export type CallPhase = 'setup' | 'alerting' | 'answered' | 'released';
type CallState = 'idle' | 'alerting' | 'in-call';

/** One call leg: ISUP CIC on a point-code pair, or a SIP Call-ID. */
export interface CallLeg {
  readonly key: string;
  readonly protocol: 'isup' | 'sip';
  readonly role: 'calling' | 'called' | null;
  readonly phase: CallPhase;
  readonly startedAt: number;
  /** Time of the newest message applied to the leg. */
  readonly at: number;
  readonly cause: number | null;
  /** When it was answered: a release after that is a hang-up, before it a refusal or an abandoned call (dialog-info's terminated event). */
  readonly answeredAt: number | null;
  /** The other party's number (ISUP) or URI (SIP): dialog-info's remote identity. */
  readonly remote: string | null;
  /** The other party's presentation is restricted (ISUP): never shown to watchers. */
  readonly remoteRestricted: boolean;
}

export type ActivityKind =
  'sms-sent' | 'sms-received' | 'call-made' | 'call-received' | 'incoming-call-attempt' | 'incoming-sms-attempt' | 'message-sent' | 'message-received';

/** Event state published with PUBLISH (RFC 3903 §4.1), by entity tag. */
export interface Publication {
  readonly etag: string;
  readonly document: PresenceDocument;
  /** Body as published, kept verbatim for the changelog. */
  readonly pidf: string;
  readonly publishedAt: number;
  readonly expiresAt: number;
}

/** Dialog-info PUBLISHed for the subscriber (a PBX's calls, RFC 4235), by entity tag: only dialog watchers see it. */
export interface DialogPublication {
  readonly etag: string;
  readonly document: DialogInfoDocument;
  /** Body as published, kept verbatim for the changelog. */
  readonly body: string;
  readonly publishedAt: number;
  readonly expiresAt: number;
}

/** A PUBLISH request seen before its final response (which carries the SIP-ETag). */
export interface PendingPublish {
  readonly callId: string;
  readonly cseq: number;
  readonly ifMatch: string | null;
  readonly expires: number | null;
  readonly pidf: string | null;
  readonly at: number;
}

export interface SubscriberPresence {
  readonly subscriber: string;
  /** Incremented on every change of the facts. */
  readonly version: number;
  /** Capture (or timer) time of the last change. */
  readonly updatedAt: number;
  readonly network: NetworkFacet;
  readonly location: LocationFacet | null;
  /** Only for watchers whose rule allows location (presenceDocument's withLocation). */
  readonly geolocation: GeolocationFacet | null;
  readonly registration: RegistrationFacet;
  /** Live legs and a few released ones (tombstones against late messages). */
  readonly calls: readonly CallLeg[];
  readonly activity: Readonly<Partial<Record<ActivityKind, number>>>;
  readonly publications: readonly Publication[];
  readonly dialogPublications: readonly DialogPublication[];
  readonly pendingPublishes: readonly PendingPublish[];
  /** Bookkeeping: not facts, do not count as a change. */
  readonly eventsSeen: number;
  readonly lastEventId: string | null;
  readonly lastEventTime: number | null;
}

const emptyNetwork: NetworkFacet = {
  state: 'unknown',
  since: null,
  at: null,
  seenAt: null,
  reason: null,
  reportedState: null,
  vlr: null,
  mscNumber: null,
  sgsn: null,
  pending: null,
};

export function emptyPresence(subscriber: string): SubscriberPresence {
  return {
    subscriber,
    version: 0,
    updatedAt: 0,
    network: emptyNetwork,
    location: null,
    geolocation: null,
    registration: { at: null, contacts: [] },
    calls: [],
    activity: {},
    publications: [],
    dialogPublications: [],
    pendingPublishes: [],
    eventsSeen: 0,
    lastEventId: null,
    lastEventTime: null,
  };
}

/** Call state of the subscriber from its legs: any answered leg wins, then any ringing one. */
export function callStateOf(s: SubscriberPresence): CallState {
  const live = s.calls.filter((c) => c.phase !== 'released');
  if (live.some((c) => c.phase === 'answered')) return 'in-call';
  if (live.length > 0) return 'alerting';
  // camelBusy from anyTimeInterrogation names no call; it holds until a newer call fact.
  const busyAt = s.network.reportedState === 'camelBusy' ? s.network.at : null;
  return busyAt !== null && !s.calls.some((c) => c.at > busyAt) ? 'in-call' : 'idle';
}

/** The serving node number to show: the VLR for circuit-switched, else the SGSN. */
export function servingNodeOf(s: SubscriberPresence): string | null {
  return s.network.vlr?.number ?? s.network.mscNumber ?? s.network.sgsn?.number ?? null;
}

/** Presence knows something: a network fact, a registration or a publication (calls aside: see calleeState.ts). */
export function isKnown(s: SubscriberPresence): boolean {
  return s.network.state !== 'unknown' || s.registration.contacts.length > 0 || s.publications.length > 0;
}

/** Reachable by network facts: attached in a domain, or a live SIP/IMS contact. */
export function isReachable(s: SubscriberPresence): boolean {
  return s.network.state === 'attached' || s.registration.contacts.length > 0;
}
