// Watcher-info documents (RFC 3858, application/watcherinfo+xml): the body of
// `Event: presence.winfo` NOTIFYs (RFC 3857), telling a presentity who watches
// it — pending watchers included, so it can answer them. Pure: model ⇄ text.
// Rendering follows the schema's element and attribute set (RFC 3858 §6),
// escapes everything and depends only on the document.
import { DecodeError } from '../protocols/decode/layer.ts';
import { xmlEscape } from './render.ts';
import { attr, child, children, parseXml, text } from './xml.ts';

export const WATCHERINFO = 'application/watcherinfo+xml';
const NS = 'urn:ietf:params:xml:ns:watcherinfo';

/** RFC 3858 §3: a watcher's subscription state. */
export type WatcherStatus = 'pending' | 'active' | 'waiting' | 'terminated';
/** RFC 3858 §3: what moved the subscription into that state. */
export type WatcherEvent = 'subscribe' | 'approved' | 'deactivated' | 'probation' | 'rejected' | 'timeout' | 'giveup' | 'noresource';

const STATUSES: ReadonlySet<string> = new Set<WatcherStatus>(['pending', 'active', 'waiting', 'terminated']);
const EVENTS: ReadonlySet<string> = new Set<WatcherEvent>(['subscribe', 'approved', 'deactivated', 'probation', 'rejected', 'timeout', 'giveup', 'noresource']);

export interface WatcherEntry {
  /** Unique per watcher subscription within the resource (RFC 3858 §3: the same id in every document). */
  readonly id: string;
  readonly uri: string;
  readonly status: WatcherStatus;
  readonly event: WatcherEvent;
  readonly displayName?: string;
  /** Seconds until the subscription expires. */
  readonly expiration?: number;
  /** Seconds the watcher has been subscribed. */
  readonly durationSubscribed?: number;
}

export interface WatcherList {
  /** The watched resource's URI. */
  readonly resource: string;
  /** The event package watched (e.g. presence). */
  readonly package: string;
  readonly watchers: readonly WatcherEntry[];
}

export interface WatcherInfoDocument {
  readonly version: number;
  readonly state: 'full' | 'partial';
  readonly lists: readonly WatcherList[];
}

const attribute = (name: string, v: string | number | undefined) => (v === undefined ? '' : ` ${name}="${xmlEscape(String(v))}"`);
const seconds = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, Math.floor(v)));

function watcher(w: WatcherEntry): string {
  const attrs = `${attribute('id', w.id)}${attribute('status', w.status)}${attribute('event', w.event)}${attribute('display-name', w.displayName)}${attribute(
    'expiration',
    seconds(w.expiration),
  )}${attribute('duration-subscribed', seconds(w.durationSubscribed))}`;
  return `    <watcher${attrs}>${xmlEscape(w.uri)}</watcher>`;
}

function list(l: WatcherList): string[] {
  const open = `  <watcher-list${attribute('resource', l.resource)}${attribute('package', l.package)}`;
  return l.watchers.length === 0 ? [`${open}/>`] : [`${open}>`, ...l.watchers.map(watcher), '  </watcher-list>'];
}

export function renderWatcherInfo(doc: WatcherInfoDocument): string {
  const open = `<watcherinfo xmlns="${NS}" version="${doc.version}" state="${doc.state}"`;
  const body = doc.lists.length === 0 ? [`${open}/>`] : [`${open}>`, ...doc.lists.flatMap(list), '</watcherinfo>'];
  return ['<?xml version="1.0" encoding="UTF-8"?>', ...body, ''].join('\n');
}

const bad = (why: string) => new DecodeError('watcherinfo', 'malformed', why);
const whole = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

function readWatcher(node: unknown): WatcherEntry {
  const id = attr(node, 'id');
  if (!id) throw bad('watcher without id');
  const status = attr(node, 'status');
  if (status === undefined || !STATUSES.has(status)) throw bad(`watcher status ${String(status)}`);
  const event = attr(node, 'event');
  if (event === undefined || !EVENTS.has(event)) throw bad(`watcher event ${String(event)}`);
  const uri = text(node);
  if (!uri) throw bad('watcher without a URI');
  const displayName = attr(node, 'display-name');
  const expiration = whole(attr(node, 'expiration'));
  const durationSubscribed = whole(attr(node, 'duration-subscribed'));
  return {
    id,
    uri,
    status: status as WatcherStatus,
    event: event as WatcherEvent,
    ...(displayName !== undefined ? { displayName } : {}),
    ...(expiration !== undefined ? { expiration } : {}),
    ...(durationSubscribed !== undefined ? { durationSubscribed } : {}),
  };
}

function readList(node: unknown): WatcherList {
  const resource = attr(node, 'resource');
  const pkg = attr(node, 'package');
  if (!resource || !pkg) throw bad('watcher-list without resource or package');
  return { resource, package: pkg, watchers: children(node, 'watcher').map(readWatcher) };
}

/** A watcherinfo document → model; anything that is not one → DecodeError. */
export function parseWatcherInfo(input: Buffer | string): WatcherInfoDocument {
  const root = child(parseXml('watcherinfo', input), 'watcherinfo');
  if (root === undefined) throw bad('no watcherinfo root');
  const version = whole(attr(root, 'version'));
  if (version === undefined) throw bad(`version ${String(attr(root, 'version'))}`);
  const state = attr(root, 'state');
  if (state !== 'full' && state !== 'partial') throw bad(`state ${String(state)}`);
  return { version, state, lists: children(root, 'watcher-list').map(readList) };
}

/**
 * RFC 3858 §4: a client's view of the watchers after a document — a full one
 * replaces it, a partial one updates the watchers it names (by id); terminated
 * watchers leave the view. Throws when a partial document skips a version.
 */
export function applyWatcherInfo(view: Map<string, WatcherEntry> & { version?: number }, doc: WatcherInfoDocument): Map<string, WatcherEntry> {
  if (doc.state === 'partial' && (view.version === undefined || doc.version !== view.version + 1))
    throw new Error(`watcherinfo version ${doc.version} after ${String(view.version)}: a full document is needed`);
  if (doc.state === 'full') view.clear();
  for (const l of doc.lists)
    for (const w of l.watchers) {
      if (w.status === 'terminated') view.delete(w.id);
      else view.set(w.id, w);
    }
  view.version = doc.version;
  return view;
}
