// name-addr / addr-spec values of From, To, Contact, Refer-To... (RFC 3261 §20.10,
// §25.1). Without <...>, everything after the first ';' is a header param, not a
// URI param (§20: "tag" on a bare URI belongs to the header).
import { parseParams, unquote } from './fieldValues.ts';

export interface NameAddr {
  readonly displayName?: string;
  /** The URI as written, without angle brackets. */
  readonly uri: string;
  /** Header parameters (tag, expires, q, ...), names lower-cased. */
  readonly params: Readonly<Record<string, string | null>>;
  readonly tag?: string;
}

export function parseNameAddr(value: string): NameAddr | undefined {
  const v = value.trim();
  if (v.length === 0) return undefined;
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  let i = 0;
  if (v.charCodeAt(0) === 0x22) {
    // quoted display name; find closing quote honouring quoted-pair
    i = 1;
    while (i < v.length && v[i] !== '"') i += v[i] === '\\' ? 2 : 1;
    displayName = unquote(v.slice(0, i + 1));
    i++;
  }
  const lt = v.indexOf('<', i);
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return undefined;
    if (displayName === undefined) {
      const dn = v.slice(0, lt).trim();
      if (dn.length) displayName = dn;
    }
    uri = v.slice(lt + 1, gt).trim();
    rest = v.slice(gt + 1);
  } else {
    if (displayName !== undefined) return undefined; // quoted name requires <uri>
    const semi = v.indexOf(';');
    uri = semi < 0 ? v : v.slice(0, semi);
    rest = semi < 0 ? '' : v.slice(semi);
    uri = uri.trim();
  }
  if (uri.length === 0) return undefined;
  const params = parseParams(rest);
  const out: { displayName?: string; uri: string; params: Record<string, string | null>; tag?: string } = { uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  const tag = params['tag'];
  if (tag) out.tag = tag;
  return out;
}
