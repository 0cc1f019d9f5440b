// What a member tells an operator about one subscriber it owns (issue 14.7,
// `presence watchers`, GET /subscribers/{key}): its presence as watchers see
// it, its publications and every watcher dialog with the CSeq, version and
// expiry the notifier keeps — from the member's store, not a topic scan.
import type { Presence } from '../../../schemas/generated/records.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { summary } from '../presence/summary.ts';
import { isFlowRoute } from '../../../protocols/sip/transport/index.ts';

export interface WatcherView {
  /** The event package: presence, or dialog (busy lamp field). */
  event: string;
  callId: string;
  watcherUri: string;
  presentityUri: string;
  contact: string;
  /** active | pending | ended (ended: unreachable, kept only for its CSeq). */
  state: string;
  decision: string;
  /** CSeq of the last NOTIFY and the document version it carried. */
  notifyCseq: number;
  version: number;
  subscribeCseq: number;
  expiresAt: string;
  /** Whether NOTIFYs go back over the flow the SUBSCRIBE came on (a front end's flow route). */
  viaFlow: boolean;
  /** A dialog watcher of one call only (Event: dialog;call-id=…): which. Absent for the others. */
  dialogFilter?: { callId: string; toTag: string | null; fromTag: string | null };
}

export interface SubscriberView {
  key: string;
  partition: number;
  presence: Presence;
  publications: Array<{ etag: string; publishedAt: string; expiresAt: string }>;
  watchers: WatcherView[];
  /** Presence facts changed this many times (the store's version). */
  version: number;
  eventsSeen: number;
  lastEventTime: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function subscriberView(key: string, partition: number, m: ManagedSubscriber, availability?: Parameters<typeof summary>[1]): SubscriberView {
  return {
    key,
    partition,
    presence: summary(m.presence, availability ?? {}),
    publications: m.presence.publications.map((p) => ({ etag: p.etag, publishedAt: iso(p.publishedAt), expiresAt: iso(p.expiresAt) })),
    watchers: [...m.watchers.values()]
      .sort((a, b) => a.watcherUri.localeCompare(b.watcherUri) || a.callId.localeCompare(b.callId))
      .map((d) => ({
        event: d.event,
        callId: d.callId,
        watcherUri: d.watcherUri,
        presentityUri: d.presentityUri,
        contact: d.contact,
        state: d.state,
        decision: d.decision,
        notifyCseq: d.notifyCseq,
        version: d.version,
        subscribeCseq: d.subscribeCseq,
        expiresAt: iso(d.expiresAt),
        viaFlow: d.routeSet.some(isFlowRoute),
        ...(d.dialogFilter ? { dialogFilter: d.dialogFilter } : {}),
      })),
    version: m.presence.version,
    eventsSeen: m.presence.eventsSeen,
    lastEventTime: m.presence.lastEventTime === null ? null : iso(m.presence.lastEventTime),
  };
}
