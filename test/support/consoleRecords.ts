// Records the console tests put on Kafka themselves, shaped as the event
// managers, taps and sinks write them: a member's report, a subscriber's
// current presence, a dead letter.
import type { DeadLetter, MemberReport, Presence, PresenceState, StateWatcher } from '../../schemas/generated/records.ts';

export function memberReport(memberId: string, partitions: number[], over: Partial<MemberReport> = {}): MemberReport {
  const now = Date.now();
  return {
    memberId,
    host: 'test-host',
    pid: process.pid,
    sipContact: null,
    sipsContact: null,
    httpUrl: null,
    partitions,
    partitionLoad: partitions.map((partition) => ({ partition, eventsPerSecond: 1.5, subscribers: 3 })),
    utilization: 0.1,
    capacityEventsPerSecond: 0,
    startedAt: now - 60_000,
    reportedAt: now,
    leaving: false,
    restoring: [],
    ...over,
  };
}

export function presenceRecord(subscriber: string, version: number, over: Partial<Presence> = {}): Presence {
  return {
    subscriber,
    version,
    basic: 'open',
    networkState: 'attached',
    callState: 'idle',
    connectability: 'connectable',
    servingNode: '351910999001',
    cellGlobalId: null,
    activities: null,
    note: null,
    pidf: `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:${subscriber}"><tuple id="t"><status><basic>open</basic></status></tuple></presence>`,
    dialogs: null,
    updatedAt: Date.now(),
    ...over,
  };
}

export function deadLetterRecord(layer: string, reason: string, message: string): DeadLetter {
  return { time: Date.now(), component: 'tap', layer, reason, message, raw: Buffer.from('bad bytes'), origin: 'test.pcap#1', context: {} };
}

export function watcherState(watcherUri: string, over: Partial<StateWatcher> = {}): StateWatcher {
  return {
    callId: `dlg-${watcherUri}`,
    remoteTag: 'w-tag',
    localTag: 'pa-tag',
    watcherUri,
    presentityUri: 'sip:+351910000123@ims.example.net',
    contact: `${watcherUri};transport=udp`,
    routeSet: [],
    state: 'active',
    decision: 'allow',
    expiresAt: Date.now() + 3_600_000,
    notifyCseq: 2,
    version: 1,
    subscribeCseq: 1,
    event: 'presence',
    wantsLocation: false,
    ...over,
  } as StateWatcher;
}

/** An event manager's store record of a subscriber (its changelog value), with the given watchers. */
export function presenceState(subscriber: string, version: number, watchers: StateWatcher[]): PresenceState {
  const now = Date.now();
  return {
    subscriber,
    version,
    networkState: 'attached',
    networkSince: now,
    servingNode: '351910999001',
    callState: 'idle',
    eventsSeen: version,
    lastEventId: null,
    lastEventTime: now,
    updatedAt: now,
    networkAt: now,
    networkSeenAt: now,
    networkReason: null,
    reportedSubscriberState: null,
    vlr: null,
    mscNumber: null,
    sgsn: null,
    pendingAttach: null,
    location: null,
    registrationAt: null,
    contacts: [],
    calls: [],
    activity: {},
    publications: [],
    pendingPublishes: [],
    recentEventIds: [],
    watchers,
    notifiedPidf: null,
    notifiedDialogs: null,
    notifiedGeolocation: null,
    locationAskedAt: null,
    geolocation: null,
    availabilityBoundaryAt: null,
    profilesVersion: 0,
    dialogPublications: [],
    messages: null,
  };
}
