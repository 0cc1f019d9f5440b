// Tokenising helpers for header field values: comma lists and ';' parameters,
// aware of quoted strings and <...> so a ',' or ';' inside a URI or display
// name does not split. Never throw: lenient by design (see message.ts).

/** Splits a header value on top-level commas (not inside "..." or <...>). */
export function splitCommaList(value: string): string[] {
  if (value.indexOf(',') < 0) {
    const t = value.trim();
    return t.length ? [t] : [];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c)
        i++; // quoted-pair
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      const t = value.slice(start, i).trim();
      if (t.length) out.push(t);
      start = i + 1;
    }
  }
  const t = value.slice(start).trim();
  if (t.length) out.push(t);
  return out;
}

/** Removes surrounding quotes and quoted-pair escapes. */
export function unquote(s: string): string {
  if (s.length >= 2 && s.charCodeAt(0) === 0x22 && s.charCodeAt(s.length - 1) === 0x22) {
    return s.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return s;
}

/**
 * Parses `;name=value;flag` generic params (leading ';' optional); names are
 * lower-cased (RFC 3261 §7.3.1: parameter names are case-insensitive), quoted
 * values unquoted.
 */
export function parseParams(s: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && s[j] !== '=' && s[j] !== ';') j++;
    const name = s.slice(i, j).trim().toLowerCase();
    if (j < n && s[j] === '=') {
      j++;
      while (j < n && (s[j] === ' ' || s[j] === '\t')) j++;
      let k = j;
      if (s[k] === '"') {
        k++;
        while (k < n && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
        k = Math.min(n, k + 1);
        if (name) out[name] = unquote(s.slice(j, k));
        while (k < n && s[k] !== ';') k++;
      } else {
        while (k < n && s[k] !== ';') k++;
        if (name) out[name] = s.slice(j, k).trim();
      }
      i = k;
    } else {
      if (name) out[name] = null;
      i = j;
    }
  }
  return out;
}

/** Splits `token;params` into the leading value and its parameters. */
export function valueAndParams(s: string): { value: string; params: Record<string, string | null> } {
  const semi = s.indexOf(';');
  if (semi < 0) return { value: s.trim(), params: {} };
  return { value: s.slice(0, semi).trim(), params: parseParams(s.slice(semi + 1)) };
}

/** Non-negative integer or undefined (delta-seconds, Content-Length, CSeq). */
export function parseUint(s: string | undefined | null): number | undefined {
  if (s == null) return undefined;
  const t = s.trim();
  if (t.length === 0 || t.length > 15) return undefined;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return Number(t);
}

/** Trims SIP linear whitespace (SP, HT, CR, LF) only; String#trim would also eat U+FEFF etc. */
export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isLws(s.charCodeAt(a))) a++;
  while (b > a && isLws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isLws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}
