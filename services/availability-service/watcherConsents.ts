// Consent for "subject to authorisation" (issue 16.4), behind the availability
// HTTP API: who is waiting (asked of the event manager that owns the presentity,
// from its store — pending dialogs live nowhere else) and the presentity's
// answer. An answer is stored as the watcher's rule in PostgreSQL (so every
// later SUBSCRIBE meets it) and then sent on watcher-consents, keyed by the
// presentity, to the same owner, which activates or rejects the pending
// dialogs at once. Stored first: a Kafka outage answers 503 and a retry is
// idempotent (same rule, a dialog already answered is left as it is).
import { randomUUID } from 'node:crypto';
import type { Settings } from '../../config/settings.ts';
import { ownerOf, subscriberFromOwner } from '../../coordinator/locator.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { OutageError } from '../../kafka/errorClass.ts';
import type { WatcherConsent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { watcherIdentity } from '../../subscriber/identity/watcherIdentity.ts';

/** The rules an answer can store: approvals (what the watcher sees) and denials. */
export type ConsentDecision = 'allow' | 'allow-presence' | 'allow-location' | 'block' | 'polite-block';

/** A watcher dialog as the owner's member API shows it (streams/event-manager/introspection/subscriberView.ts WatcherView). */
export interface HeldWatcher {
  event: string;
  watcherUri: string;
  /** active | pending | ended */
  state: string;
  decision: string;
  expiresAt: string;
}

/**
 * Where the rules are kept: the event managers' watcher rules (streams/event-manager/authorization/
 * watcherRules.ts WatcherRules, given by whoever wires the service: services sit beside streams, not above).
 */
export interface RuleWriter {
  migrate(): Promise<void>;
  set(presentity: string, watcher: string, decision: ConsentDecision): Promise<void>;
  close(): Promise<void>;
}

/** What the HTTP API needs (tests give their own). */
export interface ConsentService {
  /** The presentity's watcher dialogs as its owner holds them; throws OwnerUnavailable when no owner answers. */
  watchers(key: string): Promise<HeldWatcher[]>;
  /** Stores the rule, then sends it to the owner; resolves with what was sent. */
  answer(key: string, watcher: string, decision: ConsentDecision): Promise<WatcherConsent>;
}

/** No live event manager owns (or answers for) the presentity: the caller may retry (503). */
export class OwnerUnavailable extends OutageError {}

export const CONSENT_SOURCE = 'availability-http-api';

export class WatcherConsentService implements ConsentService {
  private readonly serde: RecordSerde;
  private producer: RecordProducer | undefined;

  constructor(
    private readonly s: Settings,
    private readonly rules: RuleWriter,
  ) {
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
  }

  async start(): Promise<void> {
    await this.rules.migrate();
    await this.serde.loadIds();
    this.producer = new RecordProducer(this.s.kafka.brokers, 'availability-consents', 10_000);
    await this.producer.connect();
  }

  async watchers(key: string): Promise<HeldWatcher[]> {
    const partition = partitionOf(key, this.s.topics.partitions);
    const owner = await ownerOf(this.s, partition, this.serde);
    if (!owner?.httpUrl) throw new OwnerUnavailable(`no live event manager with a member API owns partition ${partition} of ${key}`);
    const view = await subscriberFromOwner(this.s, owner.httpUrl, key).catch((err: Error) => {
      throw new OwnerUnavailable(`event manager ${owner.memberId} did not answer: ${err.message}`, { cause: err });
    });
    return (view?.watchers as HeldWatcher[] | undefined) ?? [];
  }

  async answer(key: string, watcher: string, decision: ConsentDecision): Promise<WatcherConsent> {
    if (!this.producer) throw new Error('consent service not started');
    const who = watcher.startsWith('*@') ? watcher.toLowerCase() : watcherIdentity(watcher);
    await this.rules.set(key, who, decision);
    const consent: WatcherConsent = { consentId: randomUUID(), presentity: key, watcher: who, decision, decidedAt: Date.now(), source: CONSENT_SOURCE };
    await this.producer.send(topicName(this.s.topics.prefix, 'watcher-consents'), key, this.serde.encode('watcher-consents', consent));
    return consent;
  }

  async close(): Promise<void> {
    await this.producer?.close();
    await this.rules.close();
  }
}
