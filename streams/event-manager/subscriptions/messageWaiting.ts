// The messaging notifiers, held with the subscriber's presence dialogs by the
// event manager that owns it (same CSeq/version rules, expiry, handoff):
// - `Event: message-summary` (RFC 3842): the mailbox's summary; a NOTIFY on
//   SUBSCRIBE and on each change of it.
// - `Event: message` (IM seed 003): one NOTIFY per new message, its kind as
//   Content-Type and a notice body (presence-document/messageNotice.ts). A
//   message that came while no such watcher was active is held (at most
//   MAX_PENDING_MESSAGES, the oldest dropped) and told to the next watcher
//   that subscribes, after its first NOTIFY.
// Both are the subscriber's own business: the front end lets only the
// subscriber itself subscribe (front-end/subscribeHandler.ts), so no watcher rule applies.
import type { MessagingFacts, NotifyRequest, StateMessages } from '../../../schemas/generated/records.ts';
import { MESSAGE_CONTEXTS, NOTHING_WAITING, renderMessageSummary, sameSummary, SIMPLE_MESSAGE_SUMMARY } from '../../../presence-document/messageSummary.ts';
import type { MessageContext, MessageSummary } from '../../../presence-document/messageSummary.ts';
import { renderMessageNotice, type MessageNotice } from '../../../presence-document/messageNotice.ts';
import { notify, notifyChange, type NotifyBody, type WatcherDialog } from './watcherDialog.ts';

export const MESSAGE_SUMMARY_EVENT = 'message-summary';
export const MESSAGE_EVENT = 'message';
/** The packages only the subscriber itself subscribes to (its watchers, its mailbox): consents and rules never touch them. */
export const OWN_PACKAGES: readonly string[] = ['presence.winfo', MESSAGE_SUMMARY_EVENT, MESSAGE_EVENT];

/** Un-notified messages kept per subscriber: enough for a handset off for a while, bounded so the changelog record stays small. */
export const MAX_PENDING_MESSAGES = 16;
/** Message ids remembered to tell a repeat once (a tap's retransmission, a publisher's retry). */
const RECENT_MESSAGE_IDS = 64;

export interface MessageState {
  summary: MessageSummary | null;
  pending: MessageNotice[];
  recentMessageIds: string[];
}

const context = (c: string): MessageContext => ((MESSAGE_CONTEXTS as readonly string[]).includes(c) ? (c as MessageContext) : 'none');

function summaryOf(s: {
  waiting: boolean;
  account: string | null;
  classes: readonly { context: string; newCount: number; oldCount: number; urgentNew: number; urgentOld: number }[];
}): MessageSummary {
  return { waiting: s.waiting, account: s.account, classes: s.classes.map((c) => ({ ...c, context: context(c.context) })) };
}

const noticeOf = (n: MessageNotice | NonNullable<MessagingFacts['notice']>): MessageNotice => ({ ...n, context: context(n.context) });

export function messageStateFrom(r: StateMessages | null | undefined): MessageState | null {
  if (!r) return null;
  return { summary: r.summary ? summaryOf(r.summary) : null, pending: r.pending.map(noticeOf), recentMessageIds: [...r.recentMessageIds] };
}

export function messageStateRecord(s: MessageState | null): StateMessages | null {
  if (!s) return null;
  return {
    summary: s.summary ? { waiting: s.summary.waiting, account: s.summary.account, classes: s.summary.classes.map((c) => ({ ...c })) } : null,
    pending: s.pending.map((n) => ({ ...n })),
    recentMessageIds: [...s.recentMessageIds],
  };
}

/** The summary body: what is held, or "nothing waiting" before any summary came. */
export function summaryBody(s: MessageState | null): NotifyBody {
  return { contentType: SIMPLE_MESSAGE_SUMMARY, body: renderMessageSummary(s?.summary ?? NOTHING_WAITING) };
}

export const noticeBody = (n: MessageNotice): NotifyBody => ({ contentType: n.contentType, body: renderMessageNotice(n) });

interface Holder {
  watchers: Map<string, WatcherDialog>;
  messages: MessageState | null;
}

export interface MessagingOutcome {
  changed: boolean;
  notifies: NotifyRequest[];
  /** Held messages dropped to stay within MAX_PENDING_MESSAGES. */
  dropped: number;
  /** A repeated message id: nothing told again. */
  repeated: boolean;
}

/** Applies a messaging fact (a summary replaces the held one; a notice is told or held) and makes the NOTIFYs. */
export function applyMessaging(m: Holder, presentity: string, facts: MessagingFacts, nowMs: number, cause: string | null): MessagingOutcome {
  const out: MessagingOutcome = { changed: false, notifies: [], dropped: 0, repeated: false };
  // A copy: the held value may be the committed one (managedSubscriber.ts forUpdate copies shallowly).
  const s: MessageState = m.messages ? { ...m.messages } : { summary: null, pending: [], recentMessageIds: [] };
  if (facts.summary) {
    const next = summaryOf(facts.summary);
    if (!sameSummary(s.summary, next)) {
      s.summary = next;
      out.changed = true;
      const body = summaryBody(s);
      out.notifies.push(...notifyChange(m.watchers, presentity, body, body, nowMs, cause, MESSAGE_SUMMARY_EVENT));
    }
  }
  if (facts.notice) {
    const n = noticeOf(facts.notice);
    if (s.recentMessageIds.includes(n.messageId)) out.repeated = true;
    else {
      s.recentMessageIds = [...s.recentMessageIds, n.messageId].slice(-RECENT_MESSAGE_IDS);
      out.changed = true;
      const told = notifyChange(m.watchers, presentity, noticeBody(n), noticeBody(n), nowMs, cause, MESSAGE_EVENT);
      if (told.length > 0) out.notifies.push(...told);
      else {
        s.pending = [...s.pending, n];
        out.dropped = Math.max(0, s.pending.length - MAX_PENDING_MESSAGES);
        s.pending = s.pending.slice(-MAX_PENDING_MESSAGES);
      }
    }
  }
  if (out.changed) m.messages = s;
  return out;
}

/**
 * After an `Event: message` SUBSCRIBE made its first NOTIFY: the held messages,
 * one NOTIFY each, to that dialog when it is active; then they are no longer held.
 */
export function tellPending(m: Holder, d: WatcherDialog | undefined, presentity: string, nowMs: number, cause: string | null): NotifyRequest[] {
  if (!d || d.state !== 'active' || !m.messages || m.messages.pending.length === 0) return [];
  const out = m.messages.pending.map((n) => notify(d, presentity, 'active', noticeBody(n), nowMs, cause));
  m.messages = { ...m.messages, pending: [] };
  return out;
}
