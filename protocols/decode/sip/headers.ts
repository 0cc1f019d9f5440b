// Header store of one SIP message: names canonical (lower-case, compact forms
// expanded), values unfolded, kept in wire order. Lookups scan a short array,
// which beats building a Map for the ~10-20 headers of a typical message.
import { canonicalHeaderName } from './compactHeaders.ts';
import { splitCommaList } from './fieldValues.ts';

export class SipHeaders {
  /** Parallel arrays: canonical names and their (unfolded, trimmed) values. */
  constructor(
    readonly names: readonly string[],
    readonly values: readonly string[],
  ) {}

  get size(): number {
    return this.names.length;
  }

  /** First value of a header (name in any case, compact form or full). */
  get(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === n) return this.values[i];
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every header line of this name, in order (one entry per line). */
  getAll(name: string): string[] {
    const n = canonicalHeaderName(name);
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === n) out.push(this.values[i]!);
    return out;
  }

  /** All comma-separated elements over all lines of this header (RFC 3261 §7.3.1). */
  list(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getAll(name)) for (const e of splitCommaList(v)) out.push(e);
    return out;
  }

  entries(): Array<[string, string]> {
    return this.names.map((n, i) => [n, this.values[i]!]);
  }
}
