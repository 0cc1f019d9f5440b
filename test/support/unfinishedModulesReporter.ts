// Names the test files that started but never reported an end. When a test
// file's worker dies (a native crash, an abort in librdkafka), Vitest only says
// "Worker exited unexpectedly" and leaves the file out of its list; CI keeps
// the tail of the output, so this prints the culprit there, after the summary.
import type { Reporter, TestModule } from 'vitest/node';

export interface ModuleLike {
  readonly moduleId: string;
  state(): string;
}

export default class UnfinishedModulesReporter implements Reporter {
  private readonly started = new Map<string, ModuleLike>();
  private readonly ended = new Set<string>();

  private readonly write: (line: string) => void;

  /** Vitest passes its reporter options; tests pass `write`. */
  constructor(options: { write?: (line: string) => void } = {}) {
    this.write = options.write ?? ((line) => void process.stderr.write(`${line}\n`));
  }

  onTestModuleStart(m: TestModule | ModuleLike): void {
    this.started.set(m.moduleId, m);
  }

  onTestModuleEnd(m: TestModule | ModuleLike): void {
    this.ended.add(m.moduleId);
  }

  onTestRunEnd(): void {
    const unfinished = [...this.started.values()].filter((m) => !this.ended.has(m.moduleId) || !['passed', 'failed', 'skipped'].includes(m.state()));
    if (unfinished.length === 0) return;
    this.write(`test files that started but did not finish (their worker died?): ${unfinished.length}`);
    for (const m of unfinished) this.write(`  ${m.moduleId} (state ${m.state()})`);
  }
}
