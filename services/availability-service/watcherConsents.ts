// Consent for "subject to authorisation" (issue 16.4), behind the availability
// HTTP API: who is waiting (asked of the event manager that owns the presentity,
// from its store — pending dialogs live nowhere else) and the presentity's
// answer. An answer is stored as the watcher's rule in PostgreSQL (so every
// later SUBSCRIBE meets it) with an outbox row in the same transaction; the
// relay here carries every such row — the API's and those of `presence rules
// set` or any other writer of the rules — to watcher-consents, keyed by the
// presentity, to the owner, which activates, tells or ends that watcher's
// dialogs at once (issue 16.6: through Kafka, within a second). A Kafka outage
// only delays the record; a repeat is harmless (same rule, a dialog already
// answered is left as it is).
import type pg from 'pg';
import type { Settings } from '../../config/settings.ts';
import { ownerOf, subscriberFromOwner } from '../../coordinator/locator.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../kafka/transactionalRecordWriter.ts';
import { OutageError } from '../../kafka/errorClass.ts';
import type { WatcherConsent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { watcherIdentity } from '../../subscriber/identity/watcherIdentity.ts';
import { OutboxRelay, type OutboxTable, type RelayOptions } from '../outbox/outboxRelay.ts';
import { listenForCommits } from '../../kafka/outboxWakeup.ts';

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
  /** Where the rules and their outbox are (the relay reads the outbox there). */
  readonly pool: pg.Pool;
  readonly schema: string;
  migrate(): Promise<void>;
  /** Stores the rule with its outbox row (one transaction); resolves with the record to relay. */
  set(presentity: string, watcher: string, decision: ConsentDecision, source: string): Promise<WatcherConsent>;
  outboxBacklog(): Promise<number>;
  close(): Promise<void>;
}

/** The rules' outbox (streams/event-manager/authorization/schema.sql), with its own advisory lock. */
export const WATCHER_RULE_OUTBOX: OutboxTable = { table: 'watcher_rule_outbox', keyColumn: 'presentity', lock: 'presence.watcher-rule-outbox' };

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
  private producer: TransactionalRecordWriter | undefined;
  private stopListening: (() => void) | undefined;
  /** Carries the rules' outbox to watcher-consents (several instances: one relays at a time, by the advisory lock). */
  relay: OutboxRelay<WatcherConsent> | undefined;

  constructor(
    private readonly s: Settings,
    private readonly rules: RuleWriter,
    private readonly relayOptions: RelayOptions<WatcherConsent> = {},
  ) {
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
  }

  async start(): Promise<void> {
    await this.rules.migrate();
    await this.serde.loadIds();
    // Transactional: the event managers read watcher-consents exactly once; an idempotent producer can write twice (issue 12).
    this.producer = new TransactionalRecordWriter({
      brokers: this.s.kafka.brokers,
      clientId: 'availability-consents',
      transactionalId: writerTransactionalId(this.s.topics.prefix, 'availability-service-consents'),
      deliveryTimeoutMs: 30_000,
    });
    await this.producer.connect();
    const p = this.producer;
    const topic = topicName(this.s.topics.prefix, 'watcher-consents');
    const relay = new OutboxRelay<WatcherConsent>(
      this.rules.pool,
      this.rules.schema,
      async (presentity, consent) => {
        if (!consent) throw new Error(`watcher rule outbox row of ${presentity} has no record`);
        await p.send(topic, presentity, this.serde.encode('watcher-consents', consent));
      },
      this.relayOptions,
      WATCHER_RULE_OUTBOX,
    );
    this.relay = relay;
    relay.start();
    // Another process's commit (`presence rules set`) wakes the relay at once instead of at its next poll.
    this.stopListening = await listenForCommits(this.rules.pool, WATCHER_RULE_OUTBOX.table, this.rules.schema, () => relay.nudge());
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
    const consent = await this.rules.set(key, who, decision, CONSENT_SOURCE);
    this.relay?.nudge();
    return consent;
  }

  /** Rule changes committed and not yet on watcher-consents. */
  outboxBacklog(): Promise<number> {
    return this.rules.outboxBacklog();
  }

  async close(): Promise<void> {
    this.stopListening?.();
    await this.relay?.stop();
    await this.producer?.close();
    await this.rules.close();
  }
}
