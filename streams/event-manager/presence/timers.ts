// Time-driven changes, fired deterministically from due times kept in the
// state itself (absolute, so they survive a rebalance): contact and
// publication expiry, forgotten PUBLISH/attach transactions, an attached
// subscriber gone silent (→ unknown), calls whose release was never seen.
import { DEFAULT_CONFIG, type DerivationConfig } from './config.ts';
import type { SubscriberPresence } from './model.ts';
import { sameFacts } from './sameFacts.ts';

type TimerKind =
  | 'contact-expiry'
  | 'publication-expiry'
  | 'dialog-publication-expiry'
  | 'pending-publish'
  | 'pending-attach'
  | 'stale-network'
  | 'stuck-call'
  | 'reported-busy';

interface Timer {
  readonly kind: TimerKind;
  /** What it concerns: contact URI, entity tag, call key... */
  readonly key: string;
  readonly dueAt: number;
}

/** Every timer the state holds, earliest first (ties by kind, then key). */
export function pendingTimers(s: SubscriberPresence, cfg: DerivationConfig = DEFAULT_CONFIG): Timer[] {
  const t: Timer[] = [];
  for (const c of s.registration.contacts) t.push({ kind: 'contact-expiry', key: c.uri, dueAt: c.expiresAt });
  for (const p of s.publications) t.push({ kind: 'publication-expiry', key: p.etag, dueAt: p.expiresAt });
  for (const p of s.dialogPublications) t.push({ kind: 'dialog-publication-expiry', key: p.etag, dueAt: p.expiresAt });
  for (const p of s.pendingPublishes) t.push({ kind: 'pending-publish', key: `${p.callId}/${p.cseq}`, dueAt: p.at + cfg.pendingPublishMs });
  const n = s.network;
  if (n.pending) t.push({ kind: 'pending-attach', key: n.pending.domain, dueAt: n.pending.at + cfg.pendingAttachMs });
  const heard = n.seenAt ?? n.at;
  if (n.state === 'attached' && heard !== null) t.push({ kind: 'stale-network', key: 'network', dueAt: heard + cfg.staleNetworkMs });
  for (const c of s.calls) if (c.phase !== 'released') t.push({ kind: 'stuck-call', key: c.key, dueAt: c.at + cfg.stuckCallMs });
  if (n.reportedState === 'camelBusy' && n.at !== null) t.push({ kind: 'reported-busy', key: 'network', dueAt: n.at + cfg.stuckCallMs });
  return t.sort((a, b) => a.dueAt - b.dueAt || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Earliest due time, or null when nothing is pending. */
export function nextDue(s: SubscriberPresence, cfg: DerivationConfig = DEFAULT_CONFIG): number | null {
  return pendingTimers(s, cfg)[0]?.dueAt ?? null;
}

function fire(s: SubscriberPresence, t: Timer): SubscriberPresence {
  const n = s.network;
  switch (t.kind) {
    case 'contact-expiry':
      return { ...s, registration: { ...s.registration, contacts: s.registration.contacts.filter((c) => c.uri !== t.key || c.expiresAt > t.dueAt) } };
    case 'publication-expiry':
      return { ...s, publications: s.publications.filter((p) => p.etag !== t.key || p.expiresAt > t.dueAt) };
    case 'dialog-publication-expiry':
      return { ...s, dialogPublications: s.dialogPublications.filter((p) => p.etag !== t.key || p.expiresAt > t.dueAt) };
    case 'pending-publish':
      return { ...s, pendingPublishes: s.pendingPublishes.filter((p) => `${p.callId}/${p.cseq}` !== t.key) };
    case 'pending-attach': {
      if (!n.pending) return s;
      const state = n.state === 'attaching' ? n.pending.previous : n.state;
      return {
        ...s,
        network: { ...n, pending: null, state, since: state !== n.state ? t.dueAt : n.since, reason: state !== n.state ? 'attach-timeout' : n.reason },
      };
    }
    case 'stale-network':
      return { ...s, network: { ...n, state: 'unknown', since: t.dueAt, reason: 'stale', vlr: null, sgsn: null, mscNumber: null, reportedState: null } };
    case 'stuck-call':
      return { ...s, calls: s.calls.map((c) => (c.key === t.key && c.phase !== 'released' ? { ...c, phase: 'released' as const, at: t.dueAt } : c)) };
    case 'reported-busy':
      return { ...s, network: { ...n, reportedState: null } };
  }
}

interface Advanced {
  readonly state: SubscriberPresence;
  readonly changed: boolean;
}

/** Fires every timer due at or before nowMs, in due order. */
export function advance(state: SubscriberPresence, nowMs: number, cfg: DerivationConfig = DEFAULT_CONFIG): Advanced {
  let s = state;
  // Each firing removes its timer and adds none, so the initial count bounds the loop.
  for (let left = pendingTimers(s, cfg).length; left > 0; left--) {
    const due = pendingTimers(s, cfg)[0];
    if (!due || due.dueAt > nowMs) break;
    s = fire(s, due);
  }
  if (sameFacts(state, s)) return { state, changed: false };
  return { state: { ...s, version: state.version + 1, updatedAt: Math.max(state.updatedAt, nowMs) }, changed: true };
}
