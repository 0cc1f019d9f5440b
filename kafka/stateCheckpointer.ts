// A processor member's local state checkpoints (Kafka Streams' state directory):
// on assignment a partition's store is loaded from its checkpoint, if one is valid,
// and only the changelog after its offset is read; while it is owned, a checkpoint
// is written in the background every `intervalMs` if the state moved on, on a
// revoke and on a clean stop. Any doubt means a full restore, counted by reason.
//
// Why a snapshot taken from the live store is exact enough: its offset O is taken
// first (ChangelogOffsets: the last committed changelog record the state holds), then
// the committed entries are read while batches go on. An entry may be newer than O,
// never older, and never uncommitted; every record after O is read again on restore,
// and a record holds a key's whole value, so the replay ends on each key's last
// value. A checkpoint left behind when a partition moves stays valid for the same
// reason: the tail from its offset replays what the other owners wrote (it is kept,
// as Kafka Streams keeps it), unless it is older than `maxAgeMs`, past which
// compaction may have dropped tombstones after its offset.
import type { ChangelogOffsets } from './changelogOffsets.ts';
import { changelogIdentity, type ChangelogIdentity } from './changelogIdentity.ts';
import type { PartitionStore } from './partitionStore.ts';
import { asError } from './rdkafkaPromises.ts';
import { checkAgainstLog, checkpointPath, CheckpointRejected, readCheckpoint, writeCheckpoint, type CheckpointFallbackReason } from './stateCheckpointFile.ts';

/** The store's changelog and its value serde (processorTypes.ts StoreSpec, which imports this file's types). */
interface ChangelogSerde<V> {
  changelogTopic: string;
  encode(value: V): Buffer;
  decode(value: Buffer): V | Promise<V>;
}

export interface CheckpointOptions {
  /** The state directory: <dir>/<changelog topic>/<partition>.checkpoint. */
  dir: string;
  /** A partition's checkpoint is rewritten at most this often, and only when its offset moved. */
  intervalMs: number;
  /** Checkpoints older than this are not used (keep it under the changelog's delete.retention.ms, 24 h by default). */
  maxAgeMs: number;
}

/** Counters of the checkpoints (metrics: presence_event_manager_checkpoint_*). */
export interface CheckpointStats {
  /** Stores loaded from a checkpoint (then only the tail was read). */
  loads: number;
  loadedEntries: number;
  loadMs: number;
  /** Full restores where a checkpoint could not be used, by reason ('missing': none written yet). */
  fallbacks: Partial<Record<CheckpointFallbackReason, number>>;
  writes: number;
  writtenEntries: number;
  writeMs: number;
  writeFailures: number;
}

export const emptyCheckpointStats = (): CheckpointStats => ({
  loads: 0,
  loadedEntries: 0,
  loadMs: 0,
  fallbacks: {},
  writes: 0,
  writtenEntries: 0,
  writeMs: 0,
  writeFailures: 0,
});

export class StateCheckpointer<V> {
  private identityAsked: Promise<ChangelogIdentity> | undefined;
  private readonly lastWrite = new Map<number, { at: number; offset: number }>();
  /** Writes run one at a time, in the background. */
  private writing: Promise<void> = Promise.resolve();
  private readonly queued = new Set<number>();

  constructor(
    private readonly opts: CheckpointOptions,
    private readonly brokers: string,
    private readonly spec: ChangelogSerde<V>,
    private readonly offsets: ChangelogOffsets,
    readonly stats: CheckpointStats,
    private readonly log?: (line: string) => void,
  ) {}

  /** The cluster's and the changelog topic's ids, asked once: offsets of another cluster or topic incarnation mean nothing here. */
  identity(): Promise<ChangelogIdentity> {
    if (!this.identityAsked) {
      this.identityAsked = changelogIdentity(this.brokers, this.spec.changelogTopic);
      this.identityAsked.catch(() => (this.identityAsked = undefined));
    }
    return this.identityAsked;
  }

  private fallback(reason: CheckpointFallbackReason, partition: number, why: string): undefined {
    this.stats.fallbacks[reason] = (this.stats.fallbacks[reason] ?? 0) + 1;
    if (reason !== 'missing') this.log?.(`partition ${partition}: full restore, ${why}`);
    return undefined;
  }

  /**
   * Loads partition `store.partition`'s checkpoint into the (empty) store if it is
   * valid against the changelog's current bounds; returns the offset to read the
   * changelog from, or undefined for a full restore (the store is left empty).
   */
  async load(store: PartitionStore<V>, log: { low: number; high: number }): Promise<number | undefined> {
    const started = Date.now();
    const p = store.partition;
    const file = checkpointPath(this.opts.dir, this.spec.changelogTopic, p);
    let ids: ChangelogIdentity;
    try {
      ids = await this.identity();
    } catch (err) {
      // Nothing is lost by a full restore; the member must not stop for a lookup the wire client cannot make (e.g. SASL OAUTHBEARER).
      return this.fallback('ids-unknown', p, asError(err).message);
    }
    let cp;
    try {
      cp = await readCheckpoint(file, { topic: this.spec.changelogTopic, partition: p, ...ids, maxAgeMs: this.opts.maxAgeMs });
    } catch (err) {
      if (err instanceof CheckpointRejected) return this.fallback(err.reason, p, err.message);
      throw err;
    }
    const bad = checkAgainstLog(cp.offset, log);
    if (bad) return this.fallback(bad, p, `checkpoint offset ${cp.offset} is outside the changelog's [${log.low}, ${log.high}]`);
    const read = Date.now() - started;
    let bytesInAll = 0;
    for (const [, bytes] of cp.entries) bytesInAll += bytes.length;
    store.reserveEncoded(bytesInAll, cp.entries.length);
    for (const [key, bytes] of cp.entries) {
      // A compact store keeps bytes in its own encoding as they are (no decode).
      if (store.acceptsEncoded(bytes)) {
        store.restoreEncoded(key, bytes);
        continue;
      }
      const v = this.spec.decode(bytes);
      store.restore(key, v instanceof Promise ? await v : v);
    }
    this.log?.(
      `partition ${p}: checkpoint of ${cp.entries.length} keys at offset ${cp.offset} loaded in ${Date.now() - started} ms (${read} ms reading and checking the file)`,
    );
    this.stats.loads++;
    this.stats.loadedEntries += cp.entries.length;
    this.stats.loadMs += Date.now() - started;
    this.lastWrite.set(p, { at: cp.writtenAt, offset: cp.offset });
    return cp.offset + 1;
  }

  /** Between batches: starts background writes of the partitions due (interval passed, offset moved). */
  maybeWrite(stores: ReadonlyMap<number, PartitionStore<V>>, live: readonly number[], now = Date.now()): void {
    for (const p of live) {
      const offset = this.offsets.offset(p);
      const last = this.lastWrite.get(p);
      if (offset === undefined || (last && (now - last.at < this.opts.intervalMs || last.offset === offset))) continue;
      const store = stores.get(p);
      if (store) this.schedule(store);
    }
  }

  /** A partition leaves this member (revoke or stop): its last state is written, in the background (the store is no longer changed). */
  leaving(store: PartitionStore<V>): void {
    const offset = this.offsets.offset(store.partition);
    if (offset !== undefined && this.lastWrite.get(store.partition)?.offset !== offset) this.schedule(store);
  }

  private schedule(store: PartitionStore<V>): void {
    const p = store.partition;
    if (this.queued.has(p)) return;
    this.queued.add(p);
    // Taken now, before any entry is read (see the top of the file).
    const offset = this.offsets.offset(p)!;
    this.writing = this.writing.then(async () => {
      this.queued.delete(p);
      const started = Date.now();
      try {
        const header = { topic: this.spec.changelogTopic, partition: p, offset, ...(await this.identity()), writtenAt: started };
        const w = await writeCheckpoint(checkpointPath(this.opts.dir, this.spec.changelogTopic, p), header, this.encoded(store));
        this.lastWrite.set(p, { at: started, offset });
        this.stats.writes++;
        this.stats.writtenEntries += w.entries;
        this.stats.writeMs += Date.now() - started;
      } catch (err) {
        // Not fatal: the previous checkpoint (or none) stays, and a restore reads more of the changelog.
        this.stats.writeFailures++;
        this.lastWrite.set(p, { at: started, offset: -2 });
        this.log?.(`checkpoint of partition ${p} not written: ${asError(err).message}`);
      }
    });
  }

  private *encoded(store: PartitionStore<V>): Generator<[string, Buffer]> {
    // A compact store's bytes as they are (no decode and encode), copied: the write awaits between entries and a commit moves them.
    for (const [k, b] of store.encodedEntries(this.spec.encode)) yield [k, store.compact ? Buffer.from(b) : b];
  }

  /** Resolves when the writes queued so far are done (a clean stop waits for them). */
  async flushed(): Promise<void> {
    await this.writing;
  }
}
