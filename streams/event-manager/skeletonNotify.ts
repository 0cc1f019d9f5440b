// WALKING SKELETON of presence derivation (issue 2): one NotifyRequest per
// signaling event, so the pipeline can be exercised end to end through the
// real broker and registry. The event manager proper (state stores,
// subscriptions, PIDF composition) replaces this function.
import type { NotifyRequest, SignalingEvent } from '../../schemas/generated/records.ts';

const ATTACHING = new Set(['updateLocation', 'updateGprsLocation', 'REGISTER', 'PUBLISH']);
const DETACHING = new Set(['purgeMS', 'cancelLocation']);

function basicStatus(e: SignalingEvent): 'open' | 'closed' | undefined {
  if (DETACHING.has(e.message)) return 'closed';
  if (ATTACHING.has(e.message) || e.protocol === 'isup') return 'open';
  return undefined;
}

function pidf(entity: string, status: 'open' | 'closed' | undefined, note: string): string {
  const basic = status ? `<status><basic>${status}</basic></status>` : '<status/>';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:${entity}"><tuple id="network">${basic}<note>${note}</note></tuple></presence>`;
}

export function skeletonNotify(event: SignalingEvent, sequence: number, now: number): NotifyRequest {
  return {
    notifyId: `${event.eventId}/notify`,
    presentity: event.subscriber,
    event: 'presence',
    callId: `skeleton-${event.subscriber}`,
    localTag: 'skeleton',
    remoteTag: 'skeleton',
    cseq: sequence,
    requestUri: `sip:watcher@127.0.0.1`,
    fromUri: `sip:${event.subscriber}`,
    toUri: 'sip:watcher@127.0.0.1',
    routeSet: [],
    subscriptionState: 'active',
    expires: 3600,
    reason: null,
    version: sequence,
    contentType: 'application/pidf+xml',
    body: pidf(event.subscriber, basicStatus(event), `${event.protocol} ${event.message} (${event.kind})`),
    causeEventId: event.eventId,
    createdAt: now,
  };
}
