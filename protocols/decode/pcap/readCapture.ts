// Streams frames out of a pcap/pcapng file or byte stream without reading it
// whole (real captures are gigabytes), gunzipping transparently when the
// bytes start with the gzip magic, whatever the file is called.
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { CaptureParser } from './captureParser.ts';
import { GZIP_MAGIC } from './captureFormat.ts';

interface ReadCaptureOptions {
  /**
   * Called when the input ends inside a record (or inside the gzip stream):
   * the frames before it have been delivered. Default: ignore, as tshark
   * does after warning. With `strict`, the DecodeError is thrown instead.
   */
  onTruncated?: (error: DecodeError) => void;
  strict?: boolean;
  /**
   * Called when a record cannot be parsed (e.g. its header claims 2^31 bytes): the frames
   * before it have been delivered, and reading stops (what follows has no known record
   * boundary). Default: the DecodeError is thrown, after those frames.
   */
  onBroken?: (error: DecodeError) => void;
  /** Read size for files; larger chunks mean fewer joins. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 1 << 20;

/** Frames of a capture file, one at a time. */
export async function* readCapture(path: string, opts: ReadCaptureOptions = {}): AsyncGenerator<CapturedFrame> {
  for await (const batch of readCaptureBatches(path, opts)) yield* batch;
}

/** Frames of a capture byte stream (e.g. stdin or an HTTP body), one at a time. */
export async function* readCaptureStream(source: AsyncIterable<Uint8Array>, opts: ReadCaptureOptions = {}): AsyncGenerator<CapturedFrame> {
  for await (const batch of readCaptureStreamBatches(source, opts)) yield* batch;
}

/** Frames in the batches they were parsed in: cheaper than one await per frame. */
export function readCaptureBatches(path: string, opts: ReadCaptureOptions = {}): AsyncGenerator<CapturedFrame[]> {
  return readCaptureStreamBatches(createReadStream(path, { highWaterMark: opts.chunkSize ?? DEFAULT_CHUNK }), opts);
}

export async function* readCaptureStreamBatches(source: AsyncIterable<Uint8Array>, opts: ReadCaptureOptions = {}): AsyncGenerator<CapturedFrame[]> {
  const parser = new CaptureParser();
  const state = { truncated: false };
  for await (const chunk of decompressed(source, opts, state)) {
    const frames = parser.push(chunk);
    if (frames.length > 0) yield frames;
    if (parser.broken) {
      if (!opts.onBroken) throw parser.broken;
      opts.onBroken(parser.broken);
      return;
    }
  }
  try {
    parser.end();
  } catch (err) {
    if (!(err instanceof DecodeError) || err.reason !== 'truncated') throw err;
    // A cut gzip stream usually also leaves a partial record: report the cut once.
    if (!state.truncated) report(err, opts);
  }
}

function report(err: DecodeError, opts: ReadCaptureOptions): void {
  if (opts.strict) throw err;
  opts.onTruncated?.(err);
}

/** The bytes of `source`, gunzipped if they begin with the gzip magic. */
async function* decompressed(source: AsyncIterable<Uint8Array>, opts: ReadCaptureOptions, state: { truncated: boolean }): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  // Gather at least two bytes to look for the magic (a stream may hand out single bytes).
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 2) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = toBuffer(r.value);
    head.push(b);
    headLen += b.length;
  }
  const first = head.length === 1 ? head[0]! : Buffer.concat(head);
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (done) return { done: true, value: undefined };
        const r = await it.next();
        return r.done ? r : { done: false, value: toBuffer(r.value) };
      },
      return: async () => {
        await it.return?.();
        return { done: true, value: undefined };
      },
    }),
  };
  const gzip = first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
  if (!gzip) {
    if (first.length > 0) yield first;
    yield* rest;
    return;
  }
  const input = Readable.from(prepend(first, rest), { objectMode: false });
  const gunzip = createGunzip();
  pipeline(input, gunzip, () => {
    // Errors surface through the iteration of gunzip below.
  });
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('Z_')) throw err; // an I/O error, not bad data
    const de = new DecodeError('pcap', code === 'Z_BUF_ERROR' ? 'truncated' : 'malformed', `gzip: ${(err as Error).message}`);
    if (de.reason !== 'truncated') throw de;
    state.truncated = true;
    report(de, opts);
  }
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

function toBuffer(u: Uint8Array | string): Buffer {
  if (typeof u === 'string') return Buffer.from(u, 'latin1');
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
