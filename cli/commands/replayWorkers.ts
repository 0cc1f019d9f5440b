// `presence replay --workers N FILE...`: the files in N groups of about equal
// size, each replayed by its own `presence replay` process (its own decoder,
// directory client and transactional producer, on its own core), and their
// summaries added up. Each process publishes exactly once under its own
// transactional id; a subscriber's events from two files may interleave, which
// the event managers' capture-time ordering absorbs, as with two taps.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TapSummary } from '../../taps/pipeline/tapPipeline.ts';
import { mergeTapSummaries, splitBySize } from '../../taps/pipeline/tapSummary.ts';

const presenceBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/presence.mjs');

export interface ReplayWorkerOptions {
  workers: number;
  /** The replay's own flags, passed on to every worker (speed, unknown, directory, country code). */
  args: string[];
  memberId?: string;
  log: (line: string) => void;
}

/** Runs the workers to their end; rejects naming every worker that failed (the others' events are published). */
export async function replayWithWorkers(files: string[], o: ReplayWorkerOptions): Promise<TapSummary> {
  if (files.includes('-')) throw new Error('--workers takes capture files, not stdin (-): a live stream has one reader');
  const groups = splitBySize(
    files.map((file) => ({ file, size: statSync(file).size })),
    o.workers,
  );
  const runs = groups.map((group, i) =>
    runWorker(
      i + 1,
      group.map((g) => g.file),
      o,
    ),
  );
  const results = await Promise.allSettled(runs);
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`worker ${i + 1} (${groups[i]!.map((g) => g.file).join(', ')}): ${(r.reason as Error).message}`] : [],
  );
  if (failed.length) throw new Error(`${failed.length} of ${groups.length} replay workers failed:\n  ${failed.join('\n  ')}`);
  return mergeTapSummaries(results.map((r) => (r as PromiseFulfilledResult<TapSummary>).value));
}

function runWorker(index: number, files: string[], o: ReplayWorkerOptions): Promise<TapSummary> {
  const args = [presenceBin, 'replay', ...files, ...o.args, '--summary-json', ...(o.memberId ? ['--member-id', `${o.memberId}-w${index}`] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let lastError = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('presence: ')) lastError = line.slice('presence: '.length);
        if (line.trim()) o.log(`[worker ${index}] ${line}`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(lastError || `exited with code ${code}`));
      try {
        resolve(JSON.parse(stdout) as TapSummary);
      } catch {
        reject(new Error(`no summary on its output: ${stdout.slice(0, 200)}`));
      }
    });
  });
}
