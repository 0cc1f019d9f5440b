// Comparing SIP/tel URIs as policies name them: the same user written with
// angle brackets, parameters or a differently-cased scheme/host is the same
// member (RFC 3261 §19.1.4 compares scheme and host case-insensitively), and a
// global number written as tel: or as a user=phone SIP URI is one subscriber.
export function sameUri(a: string, b: string): boolean {
  return normalizeUri(a) === normalizeUri(b);
}

/** A global telephone number (RFC 3966: '+', digits, visual separators) → '+digits'; undefined otherwise. */
function globalNumber(user: string): string | undefined {
  const n = user.split(';')[0]!;
  if (!/^\+[0-9().-]*[0-9][0-9().-]*$/.test(n)) return undefined;
  return `+${n.replace(/[^0-9]/g, '')}`;
}

function normalizeUri(u: string): string {
  let s = u.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) s = s.slice(lt + 1, s.indexOf('>', lt) > lt ? s.indexOf('>', lt) : undefined);
  // One subscriber, two spellings (RFC 3261 §19.1.6): tel:+N and sip:+N@host;user=phone — the
  // front end keys both as msisdn:+N, so the policies must find the same member for both.
  const tel = /^tel:([^;?]+)/i.exec(s);
  if (tel && globalNumber(tel[1]!)) return `tel:${globalNumber(tel[1]!)}`;
  const phone = /^sips?:([^@;?]+)@[^;?]*(;[^?]*)?/i.exec(s);
  if (phone && phone[2] && /;user=phone(;|$)/i.test(phone[2]) && globalNumber(phone[1]!)) return `tel:${globalNumber(phone[1]!)}`;
  s = s.split(';')[0]!.split('?')[0]!;
  const colon = s.indexOf(':');
  if (colon < 0) return s.toLowerCase();
  const scheme = s.slice(0, colon).toLowerCase();
  const rest = s.slice(colon + 1);
  const at = rest.lastIndexOf('@');
  return at < 0 ? `${scheme}:${rest.toLowerCase()}` : `${scheme}:${rest.slice(0, at)}@${rest.slice(at + 1).toLowerCase()}`;
}
