import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import UnfinishedModulesReporter, { type ModuleLike } from './unfinishedModulesReporter.ts';

const moduleIn = (moduleId: string, state: string): ModuleLike => ({ moduleId, state: () => state });

describe('UnfinishedModulesReporter', () => {
  it('names a file that started and never ended, and only that one', () => {
    const lines: string[] = [];
    const r = new UnfinishedModulesReporter({ write: (l) => lines.push(l) });
    const [done, failed, crashed] = [moduleIn('/a.test.ts', 'passed'), moduleIn('/b.test.ts', 'failed'), moduleIn('/c.test.ts', 'pending')];
    for (const m of [done, failed, crashed]) r.onTestModuleStart(m);
    r.onTestModuleEnd(done);
    r.onTestModuleEnd(failed);
    r.onTestRunEnd();
    expect(lines).toEqual(['test files that started but did not finish (their worker died?): 1', '  /c.test.ts (state pending)']);
  });

  it('prints nothing when every file finished', () => {
    const lines: string[] = [];
    const r = new UnfinishedModulesReporter({ write: (l) => lines.push(l) });
    const m = moduleIn('/a.test.ts', 'passed');
    r.onTestModuleStart(m);
    r.onTestModuleEnd(m);
    r.onTestRunEnd();
    expect(lines).toEqual([]);
  });

  it("writes, for npm test, the dead workers' files, the failed ones and the unhandled errors that are not a worker exit", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unfinished-'));
    const reportFile = path.join(dir, 'report.json');
    try {
      const r = new UnfinishedModulesReporter({ write: () => {}, reportFile });
      const [done, failed, crashed] = [moduleIn('/a.test.ts', 'passed'), moduleIn('/b.test.ts', 'failed'), moduleIn('/c.test.ts', 'pending')];
      for (const m of [done, failed, crashed]) r.onTestModuleStart(m);
      r.onTestModuleEnd(done);
      r.onTestModuleEnd(failed);
      r.onTestRunEnd(
        [],
        [{ message: '[vitest-pool]: Worker forks emitted error.', cause: { message: 'Worker exited unexpectedly' } }, { message: 'Unhandled Rejection: boom' }],
      );
      expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toEqual({ unfinished: ['/c.test.ts'], failedModules: 1, otherErrors: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
