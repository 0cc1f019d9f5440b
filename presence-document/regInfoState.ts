// The subscriber side of one `Event: reg` subscription (RFC 3680 §5.3, RFC 6665):
// full state replaces, partial state merges, and the version numbers say
// whether a partial document can be applied at all. A partial document whose
// version is not exactly one more than ours means a NOTIFY was lost: the
// caller must re-SUBSCRIBE for full state instead of guessing.
import type { ContactEvent, RegContact, RegInfoDocument, RegistrationStateName } from './regInfo.ts';

/** A registration as now known: its active bindings with absolute expiry. */
export interface RegistrationView {
  readonly aor: string;
  readonly state: RegistrationStateName;
  readonly contacts: readonly { uri: string; expiresAt: number | null; event: ContactEvent; callId?: string; cseq?: number }[];
  /** The events of the contacts this document changed (registered, refreshed, expired...). */
  readonly events: readonly ContactEvent[];
}

export type RegInfoApplied =
  | { readonly outcome: 'applied'; readonly changed: readonly RegistrationView[] }
  /** Same or older version than what we have: a retransmission or reordering, ignored. */
  | { readonly outcome: 'stale'; readonly have: number; readonly got: number }
  /** A partial document after a gap: state unknown until a full document arrives. */
  | { readonly outcome: 'gap'; readonly expected: number; readonly got: number };

interface Held {
  state: RegistrationStateName;
  contacts: Map<string, { c: RegContact; expiresAt: number | null }>;
}

export class RegInfoState {
  private version: number | undefined;
  private readonly registrations = new Map<string, Held>();

  get currentVersion(): number | undefined {
    return this.version;
  }

  /** After a new SUBSCRIBE the notifier restarts its version count (RFC 3680 §5.3): forget ours. */
  resetVersion(): void {
    this.version = undefined;
  }

  apply(doc: RegInfoDocument, nowMs: number): RegInfoApplied {
    // A full document is self-contained, so one with the same version is applied again:
    // Kamailio 5.6 (presence_reginfo) sends every NOTIFY as version 0 state full. The
    // dialog's NOTIFY CSeq, checked by the caller, orders those.
    const stale = this.version !== undefined && (doc.state === 'full' ? doc.version < this.version : doc.version <= this.version);
    if (stale) return { outcome: 'stale', have: this.version!, got: doc.version };
    if (doc.state === 'partial' && (this.version === undefined || doc.version !== this.version + 1)) {
      return { outcome: 'gap', expected: this.version === undefined ? -1 : this.version + 1, got: doc.version };
    }
    this.version = doc.version;
    const touched = new Map<string, ContactEvent[]>();
    if (doc.state === 'full') {
      const listed = new Set(doc.registrations.map((r) => r.aor));
      // Full state: a registration it no longer lists has no bindings left.
      for (const [aor, held] of this.registrations) {
        if (listed.has(aor)) continue;
        this.registrations.delete(aor);
        if (held.contacts.size > 0) touched.set(aor, ['unregistered']);
      }
    }
    for (const r of doc.registrations) {
      const held: Held = this.registrations.get(r.aor) ?? { state: r.state, contacts: new Map() };
      const before = held.contacts.size;
      if (doc.state === 'full') held.contacts.clear();
      held.state = r.state;
      const events: ContactEvent[] = [];
      for (const c of r.contacts) {
        events.push(c.event);
        if (c.state === 'terminated' || r.state === 'terminated') held.contacts.delete(c.id);
        else held.contacts.set(c.id, { c, expiresAt: c.expires !== undefined ? nowMs + c.expires * 1000 : null });
      }
      if (r.state === 'terminated') held.contacts.clear();
      this.registrations.set(r.aor, held);
      if (events.length > 0 || doc.state === 'full' || before !== held.contacts.size) touched.set(r.aor, events);
    }
    const changed = [...touched].map(([aor, events]) => this.view(aor, events));
    return { outcome: 'applied', changed };
  }

  /** The registrations now known (a full-state view, e.g. after a rebalance). */
  views(): RegistrationView[] {
    return [...this.registrations.keys()].map((aor) => this.view(aor, []));
  }

  private view(aor: string, events: ContactEvent[]): RegistrationView {
    const held = this.registrations.get(aor);
    const contacts = held
      ? [...held.contacts.values()]
          .map(({ c, expiresAt }) => ({
            uri: c.uri,
            expiresAt,
            event: c.event,
            ...(c.callId ? { callId: c.callId } : {}),
            ...(c.cseq !== undefined ? { cseq: c.cseq } : {}),
          }))
          .sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0))
      : [];
    return { aor, state: held?.state ?? 'terminated', contacts, events };
  }
}
