// Group URIs at the SIP front end (RFC 4662 resource lists, Huawei group
// presence): the front end learns every group's URI by reading the compacted
// `groups` topic into memory (like a GlobalKTable: all partitions, from the
// beginning, no consumer group, tombstones remove), and a SUBSCRIBE whose
// presentity URI is a group's becomes a Subscription with presentity
// `group:<groupId>` on `group-subscriptions`, keyed by the group id, so the
// group presence processor that owns the group holds the dialog.
//
// Decided here, not in the processor, because the group record is enough:
//   - no `Supported: eventlist` → 421 + `Require: eventlist` (RFC 4662 §5);
//   - the group administrator's policy (Huawei: members yes, outsiders no by
//     default): `members-only` and a watcher who is no member → 403. An
//     unsubscribe (Expires: 0) always passes, so anyone can end a dialog.
// The processor still enforces members' and receiving policies per NOTIFY.
import Kafka from 'node-rdkafka';
import type { Settings } from '../config/settings.ts';
import type { Group } from '../schemas/generated/records.ts';
import type { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { CompactedTopicMirror } from '../kafka/compactedTopicMirror.ts';
import { asError } from '../kafka/rdkafkaPromises.ts';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import type { NumberingPlan } from '../subscriber/identity/msisdn.ts';
import { newTag, type SipHeaderLine } from '../protocols/sip/message/index.ts';
import { acceptsMediaType, expiresToGrant, subscriptionRecord } from './requestChecks.ts';
import { DIALOG_EVENT, PIDF, PRESENCE_EVENT, presentityKey } from './subscribeHandler.ts';
import { DIALOG_INFO } from '../presence-document/dialogInfo.ts';
import { type Answer, type HandlerContext, type KeyResolver } from './handlerContext.ts';

const EVENTLIST = 'eventlist';
/** What a group NOTIFY carries (RFC 4662 §5): multipart/related with RLMI first, then PIDF parts (dialog-info for Event: dialog). */
const groupAccept = (event: string) => ['multipart/related', 'application/rlmi+xml', event === DIALOG_EVENT ? DIALOG_INFO : PIDF].join(', ');
const GROUP_PREFIX = 'group:';
/** A list of presences, or of lamps (BLF on a resource list: RFC 4662 with RFC 4235 parts). */
const GROUP_EVENTS: readonly string[] = [PRESENCE_EVENT, DIALOG_EVENT];
const ALLOW_EVENTS = GROUP_EVENTS.join(', ');

/** The presentity of a group's dialogs: `group:<groupId>`. */
export function groupPresentity(groupId: string): string {
  return `${GROUP_PREFIX}${groupId}`;
}

/** `group:<id>` → id; anything else → undefined. */
export function groupIdOf(presentity: string): string | undefined {
  return presentity.startsWith(GROUP_PREFIX) && presentity.length > GROUP_PREFIX.length ? presentity.slice(GROUP_PREFIX.length) : undefined;
}

/** A URI's comparable form: the subscriber key the taps would give it, else the bare lower-cased URI (a group URI may lack a user part). */
export function uriKey(uri: string, plan: NumberingPlan): string | undefined {
  const bare = uri.trim().replace(/^<|>$/g, '');
  if (!bare) return undefined;
  return presentityKey(bare, plan) ?? bare.split(';')[0]!.toLowerCase();
}

/** The groups this front end knows: by id and by URI, newest version wins. */
export class GroupTable {
  private readonly byId = new Map<string, Group>();
  private readonly idByUri = new Map<string, string>();

  constructor(private readonly plan: NumberingPlan) {}

  get size(): number {
    return this.byId.size;
  }

  /** Applies a `groups` record: null (tombstone) deletes; an older version than the one held is ignored (at-least-once relays may repeat). */
  apply(groupId: string, value: Group | null): 'added' | 'updated' | 'deleted' | 'stale' | 'ignored' {
    const held = this.byId.get(groupId);
    if (value === null) {
      if (!held) return 'ignored';
      this.forgetUri(held);
      this.byId.delete(groupId);
      return 'deleted';
    }
    if (held && value.version < held.version) return 'stale';
    if (held) this.forgetUri(held);
    this.byId.set(groupId, value);
    const k = uriKey(value.uri, this.plan);
    if (k) this.idByUri.set(k, groupId);
    return held ? 'updated' : 'added';
  }

  private forgetUri(g: Group): void {
    const k = uriKey(g.uri, this.plan);
    if (k && this.idByUri.get(k) === g.groupId) this.idByUri.delete(k);
  }

  get(groupId: string): Group | undefined {
    return this.byId.get(groupId);
  }

  /** The group whose URI this is, if any. */
  byUri(uri: string): Group | undefined {
    const k = uriKey(uri, this.plan);
    const id = k ? this.idByUri.get(k) : undefined;
    return id === undefined ? undefined : this.byId.get(id);
  }
}

/** Whether any of the watcher's identities (subscriber keys) is one of the group's members. */
export function isMember(group: Group, watcherKeys: ReadonlySet<string>, plan: NumberingPlan): boolean {
  return group.members.some((m) => watcherKeys.has(m.subscriber) || watcherKeys.has(uriKey(m.uri, plan) ?? ''));
}

interface GroupRouteContext extends HandlerContext {
  readonly plan: NumberingPlan;
}

/**
 * The answer to a SUBSCRIBE for a group, in this order: no From-tag → 400;
 * Event neither presence nor dialog → 489; no `Supported: eventlist` → 421 + Require;
 * Accept without multipart/related → 406; bad Expires → 400 / 423; a
 * members-only group and a watcher who is no member (unless unsubscribing)
 * → 403; else 200 and the record for `group-subscriptions` (key = group id).
 */
async function decideGroupSubscribe(request: SipMessage, group: Group, presentityUri: string, ctx: GroupRouteContext, toTag: string): Promise<Answer> {
  const fail = (status: number, headers: SipHeaderLine[] = [], reason?: string): Answer => ({ status, toTag, headers, ...(reason ? { reason } : {}) });
  const from = request.from;
  if (!from?.uri || !from.tag) return fail(400, [], 'Missing From tag');
  const event = request.event;
  // Event: dialog parameters (call-id, tags) name one call of one presentity: on a list they name nothing, and are ignored.
  if (!event || !GROUP_EVENTS.includes(event.type)) return fail(489, [['Allow-Events', ALLOW_EVENTS]]);
  // A client that requires eventlist implements it, Supported or not.
  if (![...request.supported, ...request.require].some((t) => t.toLowerCase() === EVENTLIST)) return fail(421, [['Require', EVENTLIST]]);
  const accept = request.headers.list('accept');
  // A group NOTIFY is the RLMI multipart/related.
  if (accept.length > 0 && !acceptsMediaType(accept, 'multipart/related')) return fail(406, [['Accept', groupAccept(event.type)]]);

  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);

  if (expires > 0 && group.adminPolicy !== 'anyone') {
    // members-only, also for any value we do not know: fail closed.
    const keys = new Set<string>();
    const watcherUri = ctx.authenticated ?? from.uri;
    const own = uriKey(watcherUri, ctx.plan);
    if (own) keys.add(own);
    const resolved = await ctx.resolveKey(watcherUri);
    if (resolved) keys.add(resolved);
    if (!isMember(group, keys, ctx.plan)) return fail(403, [], 'Not a member of this group');
  }

  const value = subscriptionRecord(request, ctx, {
    presentity: groupPresentity(group.groupId),
    presentityUri,
    watcher: { uri: ctx.authenticated ?? from.uri, tag: from.tag },
    event: event.type,
    expires,
    toTag,
  });
  return {
    status: 200,
    toTag,
    headers: [
      ['Expires', String(expires)],
      ['Contact', `<${ctx.contact}>`],
      ['Allow-Events', ALLOW_EVENTS],
      ['Require', EVENTLIST],
    ],
    record: { key: group.groupId, value },
  };
}

/** A key resolver that names no subscriber for group URIs: nothing keyed by a subscriber (proxying, PUBLISH) takes them for one. */
export function notGroupUris(table: GroupTable, resolve: KeyResolver): KeyResolver {
  return (uri) => (table.byUri(uri) ? undefined : resolve(uri));
}

/** The front end's hook: answers SUBSCRIBEs for known group URIs, leaves everything else to subscribeHandler (undefined). */
export class GroupRouter {
  constructor(
    readonly table: GroupTable,
    private readonly plan: NumberingPlan,
  ) {}

  async decide(request: SipMessage, ctx: HandlerContext): Promise<Answer | undefined> {
    if (request.method !== 'SUBSCRIBE') return undefined;
    // As for a presentity: the Request-URI out of dialog, To inside one (the Request-URI is then our Contact) or when retargeted to us.
    const inDialog = request.to?.tag !== undefined;
    const retargeted = !inDialog && request.to?.uri !== undefined && ctx.isOwnUri?.(request.requestUri ?? '') === true;
    const presentityUri = inDialog || retargeted ? request.to!.uri : (request.requestUri ?? '');
    const group = presentityUri ? this.table.byUri(presentityUri) : undefined;
    if (!group) return undefined;
    return decideGroupSubscribe(request, group, presentityUri, { ...ctx, plan: this.plan }, request.to?.tag ?? ctx.toTag ?? newTag());
  }
}

interface GroupsReaderStats {
  records: number;
  tombstones: number;
  stale: number;
  undecodable: number;
}

interface GroupsReaderOptions {
  /** How long start() waits to have read every partition to its end. Default 30 s. */
  readonly catchUpTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Keeps a GroupTable current from the compacted `groups` topic (a
 * CompactedTopicMirror, following it). start() resolves once every partition
 * was read to its end, so the front end does not answer 404 for groups that exist.
 */
export class GroupsReader {
  readonly stats: GroupsReaderStats = { records: 0, tombstones: 0, stale: 0, undecodable: 0 };
  private mirror: CompactedTopicMirror | undefined;

  private constructor(
    readonly topic: string,
    readonly table: GroupTable,
    private readonly serde: RecordSerde,
    private readonly o: GroupsReaderOptions,
  ) {}

  static async start(s: Settings, table: GroupTable, serde: RecordSerde, o: GroupsReaderOptions = {}): Promise<GroupsReader> {
    const topic = topicName(s.topics.prefix, 'groups');
    const reader = new GroupsReader(topic, table, serde, o);
    reader.mirror = await CompactedTopicMirror.open({
      brokers: s.kafka.brokers,
      topic,
      clientId: `sip-front-groups-${process.pid}`,
      groupIdPrefix: `${s.topics.prefix}sip-front-groups-`,
      follow: true,
      catchUpTimeoutMs: o.catchUpTimeoutMs ?? 30_000,
      apply: (key, value, m) => reader.apply(key, value, m),
      onKeyless: (m) => {
        reader.stats.undecodable++;
        o.log?.(`${m.topic}[${m.partition}]@${m.offset}: record without a key ignored`);
      },
      ...(o.log ? { log: o.log } : {}),
    });
    o.log?.(`groups: ${table.size} known from ${topic} (${reader.stats.records} records, ${reader.mirror.partitionCount} partitions)`);
    return reader;
  }

  /** Whether every partition has been read to its end once. */
  get caughtUp(): boolean {
    return this.mirror?.caughtUp ?? false;
  }

  private async apply(key: string, value: Buffer | null, m: Kafka.Message): Promise<void> {
    if (value === null) {
      this.stats.tombstones++;
      this.table.apply(key, null);
      return;
    }
    try {
      const g = await this.serde.decode('groups', value);
      this.stats.records++;
      if (this.table.apply(key, g) === 'stale') this.stats.stale++;
    } catch (err) {
      this.stats.undecodable++;
      this.o.log?.(`${m.topic}[${m.partition}]@${m.offset}: undecodable Group ignored: ${asError(err).message}`);
    }
  }

  async stop(): Promise<void> {
    await this.mirror?.close();
  }
}
