// Flows (RFC 5626 §5.2, RFC 3581): the front end that received a SUBSCRIBE
// names the flow it arrived on — transport and the packet's real source
// address and port — in a loose Route to itself, so the NOTIFYs of the dialog
// can be sent back through it, from the address the watcher sent to (a NAT
// opened its pinhole only towards that address). The token is the flow plus
// an HMAC, so the front end relays only to flows it minted itself and cannot
// be used as an open relay.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseUri } from '../../decode/sip/index.ts';
import type { MessageSource } from './types.ts';

/** URI parameter marking a Route entry as a flow route (the sink falls back to direct delivery when it fails). */
export const FLOW_ROUTE_PARAM = 'flow';

const MAC_BYTES = 12;

const mac = (secret: Buffer, text: string) => createHmac('sha256', secret).update(text).digest().subarray(0, MAC_BYTES);

/** `<base64url(transport|address|port)>.<base64url(mac)>`: only URI-unreserved characters, so it is a valid user part. */
export function mintFlowToken(flow: MessageSource, secret: Buffer): string {
  const text = `${flow.transport}|${flow.address}|${flow.port}`;
  return `${Buffer.from(text).toString('base64url')}.${mac(secret, text).toString('base64url')}`;
}

/** The flow a token names, or undefined when it is malformed or was not minted with this secret. */
export function readFlowToken(token: string, secret: Buffer): MessageSource | undefined {
  const [body, sig, extra] = token.split('.');
  if (body === undefined || sig === undefined || extra !== undefined) return undefined;
  const text = Buffer.from(body, 'base64url').toString();
  const given = Buffer.from(sig, 'base64url');
  const want = mac(secret, text);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
  const [transport, address, port] = text.split('|');
  const p = Number(port);
  if ((transport !== 'udp' && transport !== 'tcp') || !address || !Number.isInteger(p) || p <= 0 || p > 65535) return undefined;
  return { transport, address, port: p };
}

/**
 * The loose Route through a front end at host:port for this flow (name-addr
 * form, as route sets are stored); `flow=<transport>` marks it and tells the
 * sender which transport the last leg takes (for its delivery reports).
 */
export function flowRoute(token: string, host: string, port: number, flowTransport: string): string {
  return `<sip:${token}@${host.includes(':') ? `[${host}]` : host}:${port};lr;${FLOW_ROUTE_PARAM}=${flowTransport}>`;
}

/** The URI inside a Route value (`<uri>;params` or a bare URI). */
export function routeUri(route: string): string {
  const open = route.indexOf('<');
  return open < 0 ? route.trim() : route.slice(open + 1, route.indexOf('>', open));
}

/** Whether a route set entry is a flow route a front end added (see flowRoute). */
export function isFlowRoute(route: string): boolean {
  const u = parseUri(routeUri(route));
  return u !== undefined && FLOW_ROUTE_PARAM in u.params && 'lr' in u.params && !!u.user;
}

/**
 * A dialog's route set after a refresh SUBSCRIBE: the route set is fixed at
 * dialog creation (RFC 3261 §12.2.2), but the flow route is the front end's
 * own hop, not the watcher's — a refresh that came on a new flow (a NAT that
 * rebound the handset to a new port after idling) replaces it.
 */
export function refreshedRouteSet(dialog: readonly string[], refresh: readonly string[]): string[] {
  const flow = refresh[0];
  if (flow === undefined || !isFlowRoute(flow)) return [...dialog];
  return [flow, ...(dialog[0] !== undefined && isFlowRoute(dialog[0]) ? dialog.slice(1) : dialog)];
}
