// Comparing SIP/tel URIs as policies name them: the same user written with
// angle brackets, parameters or a differently-cased scheme/host is the same
// member (RFC 3261 §19.1.4 compares scheme and host case-insensitively).
export function sameUri(a: string, b: string): boolean {
  return normalizeUri(a) === normalizeUri(b);
}

export function normalizeUri(u: string): string {
  let s = u.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) s = s.slice(lt + 1, s.indexOf('>', lt) > lt ? s.indexOf('>', lt) : undefined);
  s = s.split(';')[0]!.split('?')[0]!;
  const colon = s.indexOf(':');
  if (colon < 0) return s.toLowerCase();
  const scheme = s.slice(0, colon).toLowerCase();
  const rest = s.slice(colon + 1);
  const at = rest.lastIndexOf('@');
  return at < 0 ? `${scheme}:${rest.toLowerCase()}` : `${scheme}:${rest.slice(0, at)}@${rest.slice(at + 1).toLowerCase()}`;
}
