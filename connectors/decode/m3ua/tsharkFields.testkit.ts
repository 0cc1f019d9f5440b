// Test-only helper: per-frame tshark field values, the oracle for the SS7
// decoder tests. Each row is [frame, ...fields]; multi-valued fields are
// split on ';'.
import { tshark } from '../../../test/support/captures.ts';

export interface TsharkRow {
  frame: number;
  fields: string[][];
}

export function tsharkFields(file: string, filter: string, fields: string[], extra: string[] = []): TsharkRow[] {
  const args = ['-r', file, ...extra, '-Y', filter, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'frame.number'];
  for (const f of fields) args.push('-e', f);
  return tshark(args).map((line) => {
    const cols = line.split('|');
    return { frame: Number(cols[0]), fields: cols.slice(1).map((c) => (c === '' ? [] : c.split(';'))) };
  });
}
