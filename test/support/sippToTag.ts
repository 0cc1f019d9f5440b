// The To-tag a SIPp UAC scenario saved to a file (scenarios.ts `tagFile`): its
// exec action writes it from a child shell, a moment after SIPp itself exits.
import { existsSync, readFileSync } from 'node:fs';
import { eventually } from './wait.ts';

/** The To-tag in `tagFile`, once SIPp has written it (waiting at most 5 s). */
export function sippToTag(tagFile: string): Promise<string> {
  return eventually(`SIPp to write the To-tag to ${tagFile}`, () => existsSync(tagFile) && readFileSync(tagFile, 'utf8').trim(), {
    timeoutMs: 5000,
    intervalMs: 100,
  });
}
