// Names the test files that started but never reported an end. When a test
// file's worker dies (a native crash, an abort in librdkafka), Vitest only says
// "Worker exited unexpectedly" and leaves the file out of its list; CI keeps
// the tail of the output, so this prints the culprit there, after the summary.
// With PRESENCE_UNFINISHED_FILE set it also writes them there, with whether anything
// else failed, for `npm test` (tools/test/runTests.mjs) to run those files once more.
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/** What `npm test` reads (tools/test/runTests.mjs): the dead workers' files, and every other failure. */
export interface UnfinishedReport {
  readonly unfinished: string[];
  /** Files that finished with a failed test. */
  readonly failedModules: number;
  /** Unhandled errors other than a worker's exit. */
  readonly otherErrors: number;
}

/** Vitest's words for a worker that exited under a test file. */
const WORKER_EXIT = /Worker exited unexpectedly|Worker forks emitted error/;

export interface ModuleLike {
  readonly moduleId: string;
  state(): string;
}

export default class UnfinishedModulesReporter implements Reporter {
  private readonly started = new Map<string, ModuleLike>();
  private readonly ended = new Set<string>();

  private readonly write: (line: string) => void;

  private readonly reportFile: string | undefined;

  /** Vitest passes its reporter options; tests pass `write` and `reportFile`. */
  constructor(options: { write?: (line: string) => void; reportFile?: string } = {}) {
    this.write = options.write ?? ((line) => void process.stderr.write(`${line}\n`));
    this.reportFile = options.reportFile ?? process.env.PRESENCE_UNFINISHED_FILE;
  }

  onTestModuleStart(m: TestModule | ModuleLike): void {
    this.started.set(m.moduleId, m);
  }

  onTestModuleEnd(m: TestModule | ModuleLike): void {
    this.ended.add(m.moduleId);
  }

  onTestRunEnd(_modules?: ReadonlyArray<unknown>, unhandledErrors: ReadonlyArray<{ message?: string; cause?: unknown }> = []): void {
    const unfinished = [...this.started.values()].filter((m) => !this.ended.has(m.moduleId) || !['passed', 'failed', 'skipped'].includes(m.state()));
    if (this.reportFile) {
      const report: UnfinishedReport = {
        unfinished: unfinished.map((m) => m.moduleId),
        failedModules: [...this.started.values()].filter((m) => this.ended.has(m.moduleId) && m.state() === 'failed').length,
        otherErrors: unhandledErrors.filter((e) => !WORKER_EXIT.test(`${e.message ?? ''} ${String((e.cause as { message?: string })?.message ?? '')}`)).length,
      };
      writeFileSync(this.reportFile, JSON.stringify(report));
    }
    if (unfinished.length === 0) return;
    this.write(`test files that started but did not finish (their worker died?): ${unfinished.length}`);
    for (const m of unfinished) this.write(`  ${m.moduleId} (state ${m.state()})`);
  }
}
