// One partition's state checkpoint on disk (Kafka Streams' .checkpoint plus the
// state it vouches for): every committed key with its value's changelog bytes,
// and the changelog offset up to which they hold. Loading it and reading the
// changelog from offset + 1 gives the same store as a full restore. Written to a
// temporary file, fsynced, then renamed over the old one, so a crash leaves either
// checkpoint whole; a SHA-256 trailer rejects a torn or altered file.
//
// Layout: "PRESCKPT" | u32 version | u32 header length | header JSON |
//         ([u32 key length | key | u32 value length | value])* | u32 0xFFFFFFFF |
//         u32 entry count | 32-byte SHA-256 of all that precedes it.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

const MAGIC = Buffer.from('PRESCKPT', 'latin1');
export const CHECKPOINT_FORMAT_VERSION = 1;
const END = 0xffffffff;
const HASH_BYTES = 32;
/** Written in chunks of about this size; the event loop runs between chunks. */
const CHUNK_BYTES = 1 << 20;

/** What a checkpoint says about itself. */
export interface CheckpointHeader {
  /** The changelog topic and partition the state came from. */
  topic: string;
  partition: number;
  /** The last changelog offset the state includes: a restore reads on from offset + 1. */
  offset: number;
  /** The Kafka cluster and the topic incarnation (KIP-516 topic id) the offsets belong to. */
  clusterId: string;
  topicId: string;
  writtenAt: number;
}

export interface LoadedCheckpoint extends CheckpointHeader {
  /** Keys and their values' changelog bytes (views into the file's buffer). */
  entries: Array<[string, Buffer]>;
}

/** Why a checkpoint was not used and the store restored in full (metric label `reason`). */
export type CheckpointFallbackReason =
  'missing' | 'unreadable' | 'corrupt' | 'version' | 'other-topic' | 'other-cluster' | 'ids-unknown' | 'too-old' | 'below-log-start' | 'beyond-log-end';

export class CheckpointRejected extends Error {
  constructor(
    readonly reason: CheckpointFallbackReason,
    message: string,
  ) {
    super(message);
  }
}

/** dir / changelog topic / partition: per group, since the changelog topic carries the prefix and the store's name. */
export function checkpointPath(dir: string, topic: string, partition: number): string {
  return path.join(dir, encodeURIComponent(topic), `${partition}.checkpoint`);
}

/**
 * Writes a checkpoint atomically: temp file, fsync, rename, fsync of the directory.
 * `entries` may be a generator that reads a live store: it is pulled chunk by
 * chunk with the event loop running in between.
 */
export async function writeCheckpoint(
  file: string,
  header: CheckpointHeader,
  entries: Iterable<[string, Buffer]>,
): Promise<{ entries: number; bytes: number }> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fs.open(tmp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let count = 0;
  // Entries are copied into one reused chunk (no allocation per entry), written when full.
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  const flush = async () => {
    if (used === 0) return;
    const out = chunk.subarray(0, used);
    hash.update(out);
    await fh.write(out);
    bytes += used;
    used = 0;
  };
  const put = async (b: Buffer) => {
    if (used + b.length > CHUNK_BYTES) await flush();
    if (b.length > CHUNK_BYTES) {
      hash.update(b);
      await fh.write(b);
      bytes += b.length;
    } else used += b.copy(chunk, used);
  };
  const u32 = async (n: number) => {
    if (used + 4 > CHUNK_BYTES) await flush();
    used = chunk.writeUInt32BE(n, used);
  };
  try {
    const head = Buffer.from(JSON.stringify(header), 'utf8');
    await put(MAGIC);
    await u32(CHECKPOINT_FORMAT_VERSION);
    await u32(head.length);
    await put(head);
    for (const [key, value] of entries) {
      const kl = Buffer.byteLength(key, 'utf8');
      if (used + 8 + kl + value.length > CHUNK_BYTES) await flush();
      if (8 + kl + value.length <= CHUNK_BYTES) {
        used = chunk.writeUInt32BE(kl, used);
        used += chunk.write(key, used, 'utf8');
        used = chunk.writeUInt32BE(value.length, used);
        used += value.copy(chunk, used);
      } else {
        await u32(kl);
        await put(Buffer.from(key, 'utf8'));
        await u32(value.length);
        await put(value);
      }
      count++;
    }
    await u32(END);
    await u32(count);
    await flush();
    const digest = hash.digest();
    await fh.write(digest);
    bytes += digest.length;
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await fs.rename(tmp, file);
  // The rename itself must survive a crash: fsync the directory entry.
  const dh = await fs.open(path.dirname(file), 'r');
  await dh.sync().finally(() => dh.close());
  return { entries: count, bytes };
}

/** What a checkpoint must match to be used. */
export interface CheckpointExpectation {
  topic: string;
  partition: number;
  clusterId: string;
  topicId: string;
  /** Older than this (ms) it is refused: tombstones after its offset may have been compacted away (delete.retention.ms). */
  maxAgeMs: number;
  now?: number;
}

/** Reads and checks a checkpoint; throws CheckpointRejected with the reason it cannot be used. */
export async function readCheckpoint(file: string, expect: CheckpointExpectation): Promise<LoadedCheckpoint> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CheckpointRejected(code === 'ENOENT' ? 'missing' : 'unreadable', `checkpoint ${file}: ${(err as Error).message}`);
  }
  const cp = parseCheckpoint(buf, file);
  const why = (reason: CheckpointFallbackReason, msg: string) => new CheckpointRejected(reason, `checkpoint ${file}: ${msg}`);
  if (cp.topic !== expect.topic || cp.partition !== expect.partition)
    throw why('other-topic', `holds ${cp.topic}[${cp.partition}], not ${expect.topic}[${expect.partition}]`);
  if (cp.topicId !== expect.topicId)
    throw why('other-topic', `written from topic id ${cp.topicId}, ${expect.topic} is now ${expect.topicId} (deleted and created again)`);
  if (cp.clusterId !== expect.clusterId) throw why('other-cluster', `written against cluster ${cp.clusterId}, this is ${expect.clusterId}`);
  const age = (expect.now ?? Date.now()) - cp.writtenAt;
  if (age > expect.maxAgeMs) throw why('too-old', `written ${Math.round(age / 1000)} s ago, more than ${Math.round(expect.maxAgeMs / 1000)} s`);
  return cp;
}

/** Parses and verifies the bytes of a checkpoint file (format, version, checksum). */
export function parseCheckpoint(buf: Buffer, name = 'checkpoint'): LoadedCheckpoint {
  const corrupt = (msg: string) => new CheckpointRejected('corrupt', `${name}: ${msg}`);
  if (buf.length < MAGIC.length + 8 + 8 + HASH_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('not a checkpoint file');
  const body = buf.subarray(0, buf.length - HASH_BYTES);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(buf.subarray(buf.length - HASH_BYTES))
  )
    throw corrupt('checksum mismatch');
  const version = buf.readUInt32BE(MAGIC.length);
  if (version !== CHECKPOINT_FORMAT_VERSION)
    throw new CheckpointRejected('version', `${name}: format version ${version}, this build reads ${CHECKPOINT_FORMAT_VERSION}`);
  const headLen = buf.readUInt32BE(MAGIC.length + 4);
  let at = MAGIC.length + 8;
  let header: CheckpointHeader;
  try {
    header = JSON.parse(body.subarray(at, at + headLen).toString('utf8')) as CheckpointHeader;
  } catch {
    throw corrupt('header is not JSON');
  }
  at += headLen;
  const entries: Array<[string, Buffer]> = [];
  for (;;) {
    if (at + 4 > body.length) throw corrupt('truncated');
    const kl = body.readUInt32BE(at);
    at += 4;
    if (kl === END) break;
    if (at + kl + 4 > body.length) throw corrupt('truncated');
    const key = body.toString('utf8', at, at + kl);
    at += kl;
    const vl = body.readUInt32BE(at);
    at += 4;
    if (at + vl > body.length) throw corrupt('truncated');
    entries.push([key, body.subarray(at, at + vl)]);
    at += vl;
  }
  if (at + 4 !== body.length || body.readUInt32BE(at) !== entries.length) throw corrupt('entry count does not match');
  if (typeof header.topic !== 'string' || !Number.isInteger(header.partition) || !Number.isInteger(header.offset)) throw corrupt('header incomplete');
  return { ...header, entries };
}

/**
 * Whether the changelog still holds what follows the checkpoint: its next offset
 * must lie within [log start, log end]. Below the start, records it did not
 * include were deleted; past the end, the log is not the one it was written from.
 */
export function checkAgainstLog(offset: number, log: { low: number; high: number }): CheckpointFallbackReason | undefined {
  const next = offset + 1;
  if (next < log.low) return 'below-log-start';
  if (next > log.high) return 'beyond-log-end';
  return undefined;
}
