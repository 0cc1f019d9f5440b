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
});
