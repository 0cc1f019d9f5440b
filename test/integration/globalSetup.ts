// Brings the real local stack up for the integration tests (idempotent: a
// stack that is already running is used as is and left running). A stack
// this setup started is stopped again at the end.
import { loadSettings } from '../../config/settings.ts';
import { stackDown, stackStatus, stackUp } from '../../infra/local/stack.ts';

let startedHere = false;

export async function setup(): Promise<void> {
  const s = loadSettings();
  const before = await stackStatus(s);
  // Started here only if one was not running at all: a running part that is slow to answer (a loaded
  // machine, a Kafka Connect worker another test is starting) is someone else's, not ours to stop.
  startedHere = before.some((p) => p.managed && !p.running);
  await stackUp(s, (line) => process.stderr.write(`[stack] ${line}\n`));
}

export async function teardown(): Promise<void> {
  if (startedHere && !process.env.PRESENCE_KEEP_STACK) await stackDown(loadSettings(), (line) => process.stderr.write(`[stack] ${line}\n`));
}
