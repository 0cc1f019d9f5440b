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
import { renderDialogInfo, type DialogEntry } from '../../../presence-document/dialogInfo.ts';
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

export function callDialogs(s: SubscriberPresence, o: DialogViewOptions): DialogEntry[] {
  const tapped = new Set(s.calls.filter((l) => l.protocol === 'sip').map((l) => l.key.slice('sip:'.length)));
  return [...visibleLegs(s).map((l) => dialogOf(l, o)), ...publishedDialogs(s.dialogPublications, tapped, o)];
}

/**
 * What dialog watchers were told, as a comparable string: the dialogs with
 * everything a watcher may see but the clock. Equal fingerprints → no NOTIFY
 * (a presence change that leaves the calls as they were tells them nothing).
 */
export function dialogFingerprint(s: SubscriberPresence): string {
  return JSON.stringify(callDialogs(s, { entity: '', showIdentities: true }));
}

/** The full dialog-info document one watcher's NOTIFY carries (version: that subscription's). */
export function renderDialogDocument(s: SubscriberPresence, o: DialogViewOptions & { readonly version: number }): string {
  return renderDialogInfo({ entity: o.entity, version: o.version, state: 'full', dialogs: callDialogs(s, o) });
}
