// Control characters in SIP start lines and headers. RFC 3261 §25.1 allows none
// but HTAB, CR and LF (URIs %-escape them, TEXT-UTF8 excludes them), except as a
// quoted-pair (`\` + character) inside a quoted display name (RFC 4475 §3.1.1.2).
// A bare NUL let through ends up in identities, Kafka keys and SQL parameters,
// where PostgreSQL refuses it (SQLSTATE 22021).

function isControl(c: number): boolean {
  return (c <= 0x1f && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f;
}

/** Index of the first control character not escaped as a quoted-pair, or -1. */
export function firstControlCharacter(text: string): number {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i)) && text.charCodeAt(i - 1) !== 0x5c /* \ */) return i;
  return -1;
}

/** `text` without control characters (HTAB kept): what we may copy into a message we send. */
export function withoutControlCharacters(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) if (!isControl(text.charCodeAt(i)) || text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d) out += text[i];
  return out;
}
