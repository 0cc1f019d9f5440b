// The coordinator's locate query (Tekelec Figs 5, 8-11): given a subscriber
// identity, which key, which partition, which event manager owns it right
// now, and what its presence is. Ownership comes from the event managers'
// MemberReports (memberReports.ts): each member says which partitions the
// group assigned it, so this works for the KIP-848 protocol too, which the
// DescribeGroups API of our clients cannot describe.
import Kafka from 'node-rdkafka';
import type { Settings } from '../config/settings.ts';
import { directoryKey, type SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { isValidImsi } from '../subscriber/identity/imsi.ts';
import { normalizeMsisdn } from '../subscriber/identity/msisdn.ts';
import { identityKey, isSubscriberKey, uriIdentityRef, type IdentityRef } from '../subscriber/identity/subscriberKey.ts';
import { numberingPlan } from '../subscriber/numberingPlan.ts';
import type { Presence } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { connectConsumer, consumeBatch, disconnect } from '../kafka/rdkafkaPromises.ts';
import { rdkafkaSecurity } from '../kafka/kafkaSecurity.ts';
import type { ReportedOwner } from './memberReports.ts';
import { apiGet } from '../protocols/http/apiClient.ts';
import { VIEW_AS_REQUESTER } from '../protocols/http/queryRequester.ts';
import { MemberReportsView } from './memberReportsReader.ts';
import { routeClientLog } from '../kafka/clientLog.ts';

/** The owning event manager: id, host, pid, SIP contact, HTTP url, and how old the report naming it is. */
type Owner = ReportedOwner;

interface Location {
  identity: string;
  key: string;
  partition: number;
  owner: Owner | null;
  presence: Presence | null;
  /** Who answered for the presence: the owning member from its store, or a scan of current-presence. */
  presenceFrom: 'owner' | 'topic';
  /**
   * Whose connectability the presence carries (issue 16.3); null: anonymous, what a requester in
   * none of the lists gets — always so from the topic, which holds only that one.
   */
  requester: string | null;
}

export class UnknownIdentityError extends Error {}

/** An identity as a user types it → the canonical key (directory first when given). */
export async function keyOf(s: Settings, identity: string, directory?: SubscriberDirectory): Promise<string> {
  const id = identity.trim();
  if (isSubscriberKey(id)) return id;
  const plan = numberingPlan(s);
  let ref: IdentityRef | undefined;
  if (/^(sips?|tel):/i.test(id)) ref = uriIdentityRef(id, plan);
  // bare digits of IMSI length are read as an IMSI, before any number reading
  else if (isValidImsi(id)) ref = { kind: 'imsi', value: id };
  else {
    const e164 = normalizeMsisdn(id, plan);
    if (e164) ref = { kind: 'msisdn', value: `+${e164}` };
  }
  if (!ref) throw new UnknownIdentityError(`${identity} is not an MSISDN (+E164), an IMSI (14-15 digits), a sip:/tel: URI or a subscriber key`);
  return (directory && (await directoryKey(directory, ref))) ?? identityKey(ref);
}

/**
 * Which event manager owns a partition: the member whose latest live report
 * (not leaving, younger than three report intervals) lists it; null when no
 * member has reported it.
 */
export async function ownerOf(s: Settings, partition: number, serde?: RecordSerde): Promise<Owner | null> {
  const view = await MemberReportsView.open(s, serde ? { serde } : {});
  return view.ownerOf(partition);
}

/** The newest current-presence record of a key (scans its partition of the compacted topic). */
async function presenceOf(s: Settings, key: string, partition: number, serde: RecordSerde): Promise<Presence | null> {
  const topic = topicName(s.topics.prefix, 'current-presence');
  const c = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': s.kafka.brokers,
      ...rdkafkaSecurity(),
      'group.id': `locate-${process.pid}-${Date.now()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  routeClientLog(c, 'locate');
  await connectConsumer(c, 10_000);
  let eof = false;
  c.on('partition.eof', () => (eof = true));
  c.setDefaultConsumeTimeout(100);
  c.assign([{ topic, partition, offset: -2 }]);
  let last: Buffer | null | undefined;
  try {
    const deadline = Date.now() + 30_000;
    while (!eof && Date.now() < deadline) {
      for (const m of await consumeBatch(c, 5000)) if (m.key?.toString() === key) last = m.value ?? null;
    }
  } finally {
    await disconnect(c);
  }
  return last ? serde.decode('current-presence', last) : null;
}

/** The owner's API said no to this requester (403: the presentity blocked it). */
export class OwnerRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OwnerRefused';
  }
}

/** A user's view could not be decided: only the owner holds the watcher rules' outcome, and it did not answer. */
export class UserViewUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserViewUnavailable';
  }
}

/**
 * Where a key is and its presence. `asUser`: the requester is a user who authenticated (a user's
 * token), not whom an operator names: the owner answers with that user's view (403 when blocked,
 * thrown as OwnerRefused), and without the owner nothing is said (UserViewUnavailable) — the
 * topic's presence knows no watcher rules.
 */
export async function locate(s: Settings, identity: string, directory?: SubscriberDirectory, requester?: string, asUser = false): Promise<Location> {
  const key = await keyOf(s, identity, directory);
  const partition = partitionOf(key, s.topics.partitions);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  const owner = await ownerOf(s, partition, serde);
  if (asUser && requester !== undefined) {
    if (!owner?.httpUrl) throw new UserViewUnavailable(`no owner of partition ${partition} answers with its API: ${requester}'s view cannot be decided`);
    const view = await subscriberFromOwner(s, owner.httpUrl, key, 3000, requester, true).catch((err: unknown) => {
      if (err instanceof OwnerRefused) throw err;
      throw new UserViewUnavailable(`the owner of ${key} did not answer (${(err as Error).message}): ${requester}'s view cannot be decided`);
    });
    return { identity, key, partition, owner, presence: view === null ? null : (view.presence as Presence), presenceFrom: 'owner', requester };
  }
  // The owner answers from its store in milliseconds; without its API (or when it does not answer) the topic is scanned.
  const fromOwner = owner?.httpUrl ? await askOwner(s, owner.httpUrl, key, requester).catch(() => undefined) : undefined;
  if (fromOwner !== undefined) return { identity, key, partition, owner, presence: fromOwner, presenceFrom: 'owner', requester: requester ?? null };
  return { identity, key, partition, owner, presence: await presenceOf(s, key, partition, serde), presenceFrom: 'topic', requester: null };
}

/**
 * What the owning member's API (GET /subscribers/{key}) says about a key, its connectability
 * that of `requester` (anonymous when absent); throws when it cannot say.
 */
export async function subscriberFromOwner(
  s: Settings,
  httpUrl: string,
  key: string,
  timeoutMs = 3000,
  requester?: string,
  asUser = false,
): Promise<Record<string, unknown> | null> {
  const query = requester === undefined ? '' : `?requester=${encodeURIComponent(requester)}${asUser ? `&${VIEW_AS_REQUESTER}` : ''}`;
  const res = await apiGet(`${httpUrl.replace(/\/+$/, '')}/subscribers/${encodeURIComponent(key)}${query}`, {
    headers: s.http.token ? { authorization: `Bearer ${s.http.token}` } : {},
    timeoutMs,
    tls: s.http.client,
  });
  if (res.status === 404) return null;
  if (res.status === 403 && asUser) throw new OwnerRefused(String(res.body.error ?? `${key} refused ${requester}`));
  if (res.status !== 200) throw new Error(`${httpUrl} answered ${res.status}: ${String(res.body.error ?? '')}`);
  return res.body;
}

async function askOwner(s: Settings, httpUrl: string, key: string, requester: string | undefined): Promise<Presence | null> {
  const view = await subscriberFromOwner(s, httpUrl, key, 3000, requester);
  return view === null ? null : (view.presence as Presence);
}
