// A `Subscription` record as the front end writes it for an accepted SUBSCRIBE, for tests
// that put SUBSCRIBEs on the topic (or into a handler) without a front end.
import type { Subscription } from '../../schemas/generated/records.ts';

/** A SUBSCRIBE from sip:watcher@example.com to `presentity`, dialog `callId`; any field can be overridden. */
export function subscriptionRecord(presentity: string, callId: string, fields: Partial<Subscription> = {}): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `sub-${callId}-${fields.cseq ?? 1}`,
    receivedAt: Date.now(),
    presentity,
    presentityUri: `sip:${presentity.replace(/^msisdn:/, '')}@ims.example.net`,
    watcherUri: 'sip:watcher@example.com',
    event: 'presence',
    expires: 3600,
    callId,
    watcherTag: `wt-${callId}`,
    cseq: 1,
    contact: 'sip:watcher@127.0.0.1:5070',
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-test',
    localTag: `fe-${callId}`,
    ...fields,
  };
}
