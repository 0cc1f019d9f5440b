// A realistic NotifyRequest for unit tests.
import type { NotifyRequest } from '../../schemas/generated/records.ts';

export function notifyRecord(over: Partial<NotifyRequest> = {}): NotifyRequest {
  return {
    contactVerified: true,
    notifyId: 'n-1',
    presentity: 'msisdn:+351910000001',
    event: 'presence',
    callId: 'dlg-1@watcher',
    localTag: 'pa-tag',
    remoteTag: 'w-tag',
    cseq: 7,
    requestUri: 'sip:watcher@192.0.2.10:5070',
    fromUri: 'sip:+351910000001@ims.example.net',
    toUri: 'sip:watcher@example.com',
    routeSet: [],
    subscriptionState: 'active',
    expires: 600,
    reason: null,
    version: 3,
    contentType: 'application/pidf+xml',
    body: '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000001@ims.example.net"/>',
    causeEventId: 'e1',
    createdAt: 1_700_000_000_000,
    ...over,
  };
}
