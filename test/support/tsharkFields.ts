// Test-only helper: per-frame tshark field values, the oracle for the SS7
// decoder tests. Each row is [frame, ...fields]; multi-valued fields are
// split on ';'.
import { haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tshark } from './captures.ts';

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

/** Suffix for suite titles that need the captures and tshark, saying why they skip. */
export const oracleNote = !haveCaptures ? ` (skipped: ${noCapturesReason})` : !haveTshark ? ` (skipped: ${noTsharkReason})` : '';
/** Suffix for suite titles that need only the captures. */
export const capturesNote = haveCaptures ? '' : ` (skipped: ${noCapturesReason})`;
