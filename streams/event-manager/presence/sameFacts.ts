// Whether two states hold the same facts: bookkeeping (version, counters,
// recent event ids) aside, so "changed" means something a watcher could see
// or a timer depends on.
import type { SubscriberPresence } from './model.ts';

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function sameFacts(a: SubscriberPresence, b: SubscriberPresence): boolean {
  if (a === b) return true;
  return (
    equal(a.network, b.network) &&
    equal(a.location, b.location) &&
    equal(a.geolocation, b.geolocation) &&
    equal(a.registration, b.registration) &&
    equal(a.calls, b.calls) &&
    equal(a.activity, b.activity) &&
    equal(a.pendingPublishes, b.pendingPublishes) &&
    equal(
      a.publications.map((p) => [p.etag, p.pidf, p.publishedAt, p.expiresAt]),
      b.publications.map((p) => [p.etag, p.pidf, p.publishedAt, p.expiresAt]),
    ) &&
    equal(
      a.dialogPublications.map((p) => [p.etag, p.body, p.publishedAt, p.expiresAt]),
      b.dialogPublications.map((p) => [p.etag, p.body, p.publishedAt, p.expiresAt]),
    )
  );
}
