// A failure of ours answered without internals: the client gets an id to
// quote, the log gets the detail (a database's error text names tables,
// constraints and sometimes values; it is not the caller's business).
import { randomUUID } from 'node:crypto';

export function internalErrorBody(err: unknown, context: string, log?: (line: string) => void): { error: string; id: string } {
  const id = randomUUID();
  (log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
    `${context} failed (error id ${id}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return { error: 'internal error; quote this id to the operator', id };
}
