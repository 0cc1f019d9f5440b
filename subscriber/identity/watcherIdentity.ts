// How watcher and contact URIs are compared: watcher rules and availability
// profiles' contact lists name people the same way.

/** 'sip:Alice@Example.com;transport=tcp' → 'sip:Alice@example.com' (host case-folded, parameters dropped). */
export function watcherIdentity(uri: string): string {
  const bare = uri.trim().split(';')[0]!.replace(/^<|>$/g, '');
  const at = bare.lastIndexOf('@');
  return at < 0 ? bare.toLowerCase() : `${bare.slice(0, at)}@${bare.slice(at + 1).toLowerCase()}`;
}
