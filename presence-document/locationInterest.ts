// Whether a watcher's SUBSCRIBE asks for the presentity's location (issue 19,
// Le): what makes the event manager ask the network for a position, for a
// watcher whose rule also allows it. PIDF-LO is carried as PIDF (RFC 4119 §2,
// RFC 5491), so an Accept that admits a PIDF type admits location; no Accept
// means application/pidf+xml (RFC 3856 §6.7). An RFC 4661 filter is the
// watcher's narrower word and wins: it asks for location only when it includes
// a location element (or restricts nothing, or excludes only other parts). A
// filter we cannot read asks nothing — positioning costs the network, so doubt
// never triggers it.
import { attr, child, children, parseXml, text } from './xml.ts';

/** Body types that carry a PIDF-LO position. */
const LOCATION_PIDF_TYPES = new Set(['application/pidf+xml', 'application/cpim-pidf+xml', 'application/pidf-diff+xml', 'application/*', '*/*']);

/** An xpath (or namespace) naming the geopriv location element or something inside it. */
const NAMES_LOCATION = /geopriv|location-info|\bgml:|\bgs:|\blocation\b|urn:ietf:params:xml:ns:pidf:geopriv10/i;

const mediaType = (a: string) => a.split(';')[0]!.trim().toLowerCase();

export function asksForLocation(accept: readonly string[], filter: Buffer | string | null): boolean {
  if (filter !== null && filter.length > 0) return filterAsksForLocation(filter);
  if (accept.length === 0) return true;
  return accept.some((a) => LOCATION_PIDF_TYPES.has(mediaType(a)));
}

/** From an RFC 4661 filter document: does the content it selects include location? */
export function filterAsksForLocation(filter: Buffer | string): boolean {
  let root: unknown;
  try {
    root = child(parseXml('simple-filter', filter), 'filter-set');
  } catch {
    return false;
  }
  if (root === undefined) return false;
  const filters = children(root, 'filter').filter((f) => attr(f, 'remove') !== 'true' && attr(f, 'enabled') !== 'false');
  // No filter in force: the whole document (RFC 4661 §3.1).
  if (filters.length === 0) return true;
  return filters.some((f) => {
    const what = child(f, 'what');
    // A filter with only triggers restricts when, not what.
    if (what === undefined) return true;
    const includes = children(what, 'include').map((n) => text(n) ?? '');
    const excludes = children(what, 'exclude').map((n) => text(n) ?? '');
    if (includes.length > 0) return includes.some((x) => NAMES_LOCATION.test(x));
    return !excludes.some((x) => NAMES_LOCATION.test(x) || /^\s*(\/|\/\/\*|\/[a-z]*:?presence)\s*$/i.test(x));
  });
}
