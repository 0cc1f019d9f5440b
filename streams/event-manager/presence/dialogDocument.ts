// The subscriber's calls as an RFC 4235 dialog-info document (Event: dialog,
// the busy lamp field): one <dialog> per call leg the taps saw — ISUP, SIP —
// so a watcher's lamp follows calls no PBX of its own ever saw.
//
// Mapping (RFC 4235 §3.7.1 FSM): setup → trying, alerting (ACM/CPG, 18x) →
// early, answered → confirmed, released → terminated; direction from the
// subscriber's role (calling → initiator). A terminated dialog is told once:
// it is listed while its release is the newest call fact, and dropped from the
// document once another call moves on (so the lamp's history does not pile up).
// Why it ended: a release after the answer has no event (one REL does not say
// which side hung up); before it, normal clearing or no cause is the caller
// giving up (cancelled), anything else a refusal (rejected, with the SIP code
// RFC 3398 maps the Q.850 cause to).
// Dialogs a PBX PUBLISHed (dialog-info, e.g. Kamailio pua_dialoginfo) follow the
// taps' legs, as published; a call both saw (same SIP Call-ID) is listed once,
// as the taps saw it, since the copied signaling covers every hop.
import { createHash } from 'node:crypto';
import { renderDialogInfo, type DialogEntry } from '../../../presence-document/dialogInfo.ts';
import type { DialogFilter } from '../../../schemas/generated/records.ts';
import type { CallLeg, CallPhase, DialogPublication, SubscriberPresence } from './model.ts';

const STATE_OF: Readonly<Record<CallPhase, DialogEntry['state']>> = { setup: 'trying', alerting: 'early', answered: 'confirmed', released: 'terminated' };

/** RFC 3398 §7.2.4.1: Q.850 causes → SIP responses (the ones a refused call carries). */
const Q850_TO_SIP: Readonly<Record<number, number>> = {
  1: 404,
  3: 404,
  17: 486,
  18: 408,
  19: 480,
  20: 480,
  21: 403,
  22: 410,
  27: 502,
  28: 484,
  31: 480,
  34: 503,
  38: 503,
  41: 503,
  42: 503,
  47: 503,
  88: 488,
  102: 504,
  127: 500,
};

const NORMAL_CLEARING = 16;

export interface DialogViewOptions {
  /** The presentity URI: the dialogs' local identity. */
  readonly entity: string;
  /** The watcher may see who is talking (the rules allow it); when false only state and direction. */
  readonly showIdentities: boolean;
  /** For live calls' duration; without it no duration (the fingerprint). */
  readonly nowMs?: number;
  /** Event: dialog;call-id=… (RFC 4235 §3.2): only that dialog. */
  readonly filter?: DialogFilter | null;
  /**
   * False for a watcher allowed presence but not call details (rule `allow-presence`): each
   * dialog's state (the lamp) and why it ended, under an opaque id — no identities, direction,
   * duration, Call-ID or tags, nothing that tells who called whom or for how long.
   */
  readonly callDetails?: boolean;
}

/** A number from ISUP as a tel: URI; a SIP URI as it is. */
function identityUri(remote: string): string {
  if (remote.includes(':')) return remote;
  return remote.startsWith('+') ? `tel:${remote}` : `tel:+${remote}`;
}

function ending(leg: CallLeg): Pick<DialogEntry, 'event' | 'code'> {
  if (leg.phase !== 'released' || leg.answeredAt !== null) return {};
  const cause = leg.cause;
  if (leg.protocol === 'sip') {
    if (cause === null) return { event: 'cancelled' };
    return cause === 487 ? { event: 'cancelled', code: 487 } : { event: 'rejected', code: cause };
  }
  if (cause === null || cause === NORMAL_CLEARING) return { event: 'cancelled' };
  const code = Q850_TO_SIP[cause];
  return code === undefined ? { event: 'rejected' } : { event: 'rejected', code };
}

/** The legs a document lists: every live one, and released ones while their release is the newest call fact. */
function visibleLegs(s: SubscriberPresence): CallLeg[] {
  const newest = Math.max(...s.calls.map((l) => l.at));
  return s.calls.filter((l) => l.phase !== 'released' || l.at >= newest);
}

function dialogOf(leg: CallLeg, o: DialogViewOptions): DialogEntry {
  const end = leg.phase === 'released' ? leg.at : o.nowMs;
  const showRemote = o.showIdentities && leg.remote !== null && !leg.remoteRestricted;
  return {
    id: leg.key.replace(/:/g, '-'),
    ...(leg.protocol === 'sip' ? { callId: leg.key.slice('sip:'.length) } : {}),
    ...(leg.role !== null ? { direction: leg.role === 'calling' ? ('initiator' as const) : ('recipient' as const) } : {}),
    state: STATE_OF[leg.phase],
    ...ending(leg),
    ...(end !== undefined ? { duration: Math.max(0, Math.floor((end - leg.startedAt) / 1000)) } : {}),
    ...(o.showIdentities ? { local: { identity: o.entity } } : {}),
    ...(showRemote ? { remote: { identity: identityUri(leg.remote!) } } : {}),
  };
}

/** A published dialog as this watcher may see it: the PBX's state, direction and duration; identities only when allowed. */
function publishedDialog(d: DialogEntry, o: DialogViewOptions): DialogEntry {
  const remote =
    d.remote?.identity !== undefined
      ? { identity: d.remote.identity, ...(d.remote.displayName !== undefined ? { displayName: d.remote.displayName } : {}) }
      : undefined;
  return {
    id: `pub-${d.id}`,
    ...(d.callId !== undefined ? { callId: d.callId } : {}),
    // The PBX's tags, so a watcher can name this dialog in Event: dialog;call-id;to-tag;from-tag.
    ...(d.localTag !== undefined ? { localTag: d.localTag } : {}),
    ...(d.remoteTag !== undefined ? { remoteTag: d.remoteTag } : {}),
    ...(d.direction !== undefined ? { direction: d.direction } : {}),
    state: d.state,
    ...(d.event !== undefined ? { event: d.event } : {}),
    ...(d.code !== undefined ? { code: d.code } : {}),
    ...(d.duration !== undefined ? { duration: d.duration } : {}),
    ...(o.showIdentities ? { local: { identity: o.entity } } : {}),
    ...(o.showIdentities && remote ? { remote } : {}),
  };
}

function publishedDialogs(pubs: readonly DialogPublication[], tapped: ReadonlySet<string>, o: DialogViewOptions): DialogEntry[] {
  return pubs.flatMap((p) => p.document.dialogs.filter((d) => d.callId === undefined || !tapped.has(d.callId)).map((d) => publishedDialog(d, o)));
}

/**
 * Whether a dialog is the one a filtered subscription names (RFC 4235 §3.2):
 * same Call-ID; to-tag against its local tag, from-tag against its remote tag
 * — where the dialog has tags at all: the taps key a SIP call by its Call-ID
 * and keep no tags, and one Call-ID is one call to them.
 */
export function matchesFilter(d: DialogEntry, f: DialogFilter | null | undefined): boolean {
  if (!f) return true;
  if (d.callId !== f.callId) return false;
  if (f.toTag !== null && d.localTag !== undefined && d.localTag !== f.toTag) return false;
  return f.fromTag === null || d.remoteTag === undefined || d.remoteTag === f.fromTag;
}

/**
 * A dialog reduced to its state. The id stays stable per call (partial state names dialogs
 * by it) but is a digest: ours embed the SIP Call-ID or the ISUP circuit.
 */
function stateOnly(d: DialogEntry): DialogEntry {
  return {
    id: `d-${createHash('sha256').update(d.id).digest('base64url').slice(0, 12)}`,
    state: d.state,
    ...(d.event !== undefined ? { event: d.event } : {}),
    ...(d.code !== undefined ? { code: d.code } : {}),
  };
}

export function callDialogs(s: SubscriberPresence, o: DialogViewOptions): DialogEntry[] {
  const tapped = new Set(s.calls.filter((l) => l.protocol === 'sip').map((l) => l.key.slice('sip:'.length)));
  const all = [...visibleLegs(s).map((l) => dialogOf(l, o)), ...publishedDialogs(s.dialogPublications, tapped, o)];
  // Filter first: a call-id filter matches on the details a state-only view then drops.
  const seen = o.filter ? all.filter((d) => matchesFilter(d, o.filter)) : all;
  return o.callDetails === false ? seen.map(stateOnly) : seen;
}

/**
 * What dialog watchers were told, as a comparable string: the dialogs with
 * everything a watcher may see but the clock. Equal fingerprints → no NOTIFY
 * (a presence change that leaves the calls as they were tells them nothing).
 */
export function dialogFingerprint(s: SubscriberPresence): string {
  return JSON.stringify(callDialogs(s, { entity: '', showIdentities: true }));
}

/**
 * What changed since the dialogs told (`told`, a dialogFingerprint): the ids of
 * the dialogs that are new or differ — the content of a partial NOTIFY
 * (RFC 4235 §4.1). Null when only full state will do: nothing told before, or
 * a dialog told as live is gone without its termination having been told (a
 * PBX removed its publication, a published call the taps now see under their
 * own id) — a partial document cannot say "gone", only "terminated".
 * A terminated dialog that drops out is not a change: it was told as terminated.
 */
export function changedDialogs(told: string | null, s: SubscriberPresence): ReadonlySet<string> | null {
  if (told === null) return null;
  const before = new Map((JSON.parse(told) as DialogEntry[]).map((d) => [d.id, JSON.stringify(d)]));
  const now = callDialogs(s, { entity: '', showIdentities: true });
  const ids = new Set(now.map((d) => d.id));
  for (const [id, d] of before) if (!ids.has(id) && (JSON.parse(d) as DialogEntry).state !== 'terminated') return null;
  return new Set(now.filter((d) => before.get(d.id) !== JSON.stringify(d)).map((d) => d.id));
}

/**
 * The dialog-info document one watcher's NOTIFY carries (version: that
 * subscription's): full state, or — given `changed` — partial state with only
 * the changed dialogs this watcher may see.
 */
export function renderDialogDocument(
  s: SubscriberPresence,
  o: DialogViewOptions & { readonly version: number; readonly changed?: ReadonlySet<string> | null },
): string {
  const changed = o.changed;
  // `changed` names dialogs by their detailed ids: pick them before a state-only view renames them.
  const detailed = callDialogs(s, { ...o, callDetails: true });
  const picked = changed ? detailed.filter((d) => changed.has(d.id)) : detailed;
  const dialogs = o.callDetails === false ? picked.map(stateOnly) : picked;
  return renderDialogInfo({ entity: o.entity, version: o.version, state: changed ? 'partial' : 'full', dialogs });
}

/** Whether a partial change (`changed`, null: full state) touches a dialog this subscription sees. */
export function changeConcerns(s: SubscriberPresence, changed: ReadonlySet<string> | null, filter: DialogFilter | null | undefined): boolean {
  if (changed === null) return true;
  return callDialogs(s, { entity: '', showIdentities: true, filter }).some((d) => changed.has(d.id));
}
