// Dialog-info documents (RFC 4235 §4, application/dialog-info+xml): the body
// of `Event: dialog` NOTIFYs (busy lamp field) and of PUBLISHes from PBXs
// (Kamailio pua_dialoginfo). Pure: model ⇄ text. Rendering follows the
// schema's element order (dialog-info.xsd), escapes everything and depends only
// on the document, so equal documents give byte-equal bodies.
import { DecodeError } from '../protocols/decode/layer.ts';
import { xmlEscape } from './render.ts';
import { attr, child, children, parseXml, text } from './xml.ts';

export const DIALOG_INFO = 'application/dialog-info+xml';
const NS = 'urn:ietf:params:xml:ns:dialog-info';

/** RFC 4235 §3.7.1: the dialog FSM's states. */
export type DialogStateName = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';
/** RFC 4235 §4.1.2: why a dialog terminated. */
export type DialogEndEvent = 'cancelled' | 'rejected' | 'replaced' | 'local-bye' | 'remote-bye' | 'error' | 'timeout';

const STATES: ReadonlySet<string> = new Set<DialogStateName>(['trying', 'proceeding', 'early', 'confirmed', 'terminated']);
const END_EVENTS: ReadonlySet<string> = new Set<DialogEndEvent>(['cancelled', 'rejected', 'replaced', 'local-bye', 'remote-bye', 'error', 'timeout']);

/** A side of the dialog: its identity (a URI, with a display name) when it may be shown. */
export interface DialogParticipant {
  readonly identity?: string;
  readonly displayName?: string;
  readonly target?: string;
}

export interface DialogEntry {
  readonly id: string;
  readonly callId?: string;
  readonly localTag?: string;
  readonly remoteTag?: string;
  readonly direction?: 'initiator' | 'recipient';
  readonly state: DialogStateName;
  readonly event?: DialogEndEvent;
  /** The SIP response code that ended (or moved) the dialog. */
  readonly code?: number;
  /** Seconds since the dialog began. */
  readonly duration?: number;
  readonly local?: DialogParticipant;
  readonly remote?: DialogParticipant;
}

export interface DialogInfoDocument {
  readonly entity: string;
  readonly version: number;
  readonly state: 'full' | 'partial';
  readonly dialogs: readonly DialogEntry[];
}

const attribute = (name: string, v: string | number | undefined) => (v === undefined ? '' : ` ${name}="${xmlEscape(String(v))}"`);

function participant(tag: 'local' | 'remote', p: DialogParticipant | undefined): string[] {
  if (!p || (p.identity === undefined && p.target === undefined)) return [];
  return [
    `    <${tag}>`,
    ...(p.identity !== undefined ? [`      <identity${attribute('display-name', p.displayName)}>${xmlEscape(p.identity)}</identity>`] : []),
    ...(p.target !== undefined ? [`      <target uri="${xmlEscape(p.target)}"/>`] : []),
    `    </${tag}>`,
  ];
}

function dialog(d: DialogEntry): string[] {
  const attrs = `${attribute('id', d.id)}${attribute('call-id', d.callId)}${attribute('local-tag', d.localTag)}${attribute('remote-tag', d.remoteTag)}${attribute('direction', d.direction)}`;
  return [
    `  <dialog${attrs}>`,
    `    <state${attribute('event', d.event)}${attribute('code', d.code)}>${d.state}</state>`,
    ...(d.duration !== undefined ? [`    <duration>${Math.max(0, Math.floor(d.duration))}</duration>`] : []),
    ...participant('local', d.local),
    ...participant('remote', d.remote),
    '  </dialog>',
  ];
}

export function renderDialogInfo(doc: DialogInfoDocument): string {
  const open = `<dialog-info xmlns="${NS}" version="${doc.version}" state="${doc.state}"${attribute('entity', doc.entity)}`;
  const body = doc.dialogs.length === 0 ? [`${open}/>`] : [`${open}>`, ...doc.dialogs.flatMap(dialog), '</dialog-info>'];
  return ['<?xml version="1.0" encoding="UTF-8"?>', ...body, ''].join('\n');
}

const bad = (why: string) => new DecodeError('dialog-info', 'malformed', why);

function readParticipant(node: unknown): DialogParticipant | undefined {
  if (node === undefined) return undefined;
  const id = child(node, 'identity');
  const identity = id === undefined ? undefined : text(id);
  // RFC 4235 names the attribute display-name; Kamailio's pua_dialoginfo writes display.
  const displayName = attr(id, 'display-name') ?? attr(id, 'display');
  const target = attr(child(node, 'target'), 'uri');
  return {
    ...(identity !== undefined ? { identity } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    ...(target !== undefined ? { target } : {}),
  };
}

function readDialog(node: unknown): DialogEntry {
  const id = attr(node, 'id');
  if (!id) throw bad('dialog without id');
  const stateNode = child(node, 'state');
  const state = text(stateNode);
  if (state === undefined || !STATES.has(state)) throw bad(`dialog state ${String(state)}`);
  const direction = attr(node, 'direction');
  if (direction !== undefined && direction !== 'initiator' && direction !== 'recipient') throw bad(`direction ${direction}`);
  const event = attr(stateNode, 'event');
  const code = attr(stateNode, 'code');
  const duration = text(child(node, 'duration'));
  const callId = attr(node, 'call-id');
  const localTag = attr(node, 'local-tag');
  const remoteTag = attr(node, 'remote-tag');
  const local = readParticipant(child(node, 'local'));
  const remote = readParticipant(child(node, 'remote'));
  return {
    id,
    ...(callId !== undefined ? { callId } : {}),
    ...(localTag !== undefined ? { localTag } : {}),
    ...(remoteTag !== undefined ? { remoteTag } : {}),
    ...(direction !== undefined ? { direction } : {}),
    state: state as DialogStateName,
    // An event outside the RFC's list is an extension we cannot act on: left out, not fatal.
    ...(event !== undefined && END_EVENTS.has(event) ? { event: event as DialogEndEvent } : {}),
    ...(code !== undefined && /^\d+$/.test(code) ? { code: Number(code) } : {}),
    ...(duration !== undefined && /^\d+$/.test(duration) ? { duration: Number(duration) } : {}),
    ...(local ? { local } : {}),
    ...(remote ? { remote } : {}),
  };
}

/** A dialog-info document → model; anything that is not one → DecodeError. */
export function parseDialogInfo(input: Buffer | string): DialogInfoDocument {
  const root = child(parseXml('dialog-info', input), 'dialog-info');
  if (root === undefined) throw bad('no dialog-info root');
  const version = attr(root, 'version');
  if (version === undefined || !/^\d+$/.test(version)) throw bad(`version ${String(version)}`);
  const state = attr(root, 'state');
  if (state !== 'full' && state !== 'partial') throw bad(`state ${String(state)}`);
  const entity = attr(root, 'entity');
  if (!entity) throw bad('no entity');
  return { entity, version: Number(version), state, dialogs: children(root, 'dialog').map(readDialog) };
}
