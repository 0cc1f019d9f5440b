// Proxy mode (Tekelec claim 10, Fig 12 "alternate scenario"): the front end
// forwards an out-of-dialog SUBSCRIBE to the owning event manager's own SIP
// contact as an RFC 3261 §16.11 stateless proxy, and relays the responses
// back. The event manager's 200 carries its own Contact, so the watcher's
// refreshes and the NOTIFYs then go between the two directly.
//
// Stateless means no transaction state: the Via branch we add is a hash of
// the request (§16.11), so a retransmission is forwarded with the same branch
// and the event manager's server transaction absorbs it; a response is
// relayed by removing our Via (§16.7 step 3) and sending it where the next Via
// says (§18.2.2). Requests we do not forward (in-dialog, non-SUBSCRIBE, no
// known owner, a presentity that is not ours) go to the transaction layer and
// are answered as the stateless front end would — as is a SUBSCRIBE that
// came over TLS or for a sips: URI: this proxy forwards over UDP/TCP only, and
// a plain next hop would strip the protection the watcher asked for.
import { contactVerified } from './contactCheck.ts';
import { createHash } from 'node:crypto';
import { parseUri, parseVia, SipMessage, type Via } from '../protocols/decode/sip/index.ts';
import { splitCommaList } from '../protocols/decode/sip/fieldValues.ts';
import {
  BRANCH_MAGIC_COOKIE,
  buildResponse,
  DEFAULT_MAX_FORWARDS,
  serialize,
  viaValue,
  type OutgoingRequest,
  type OutgoingResponse,
  type SipHeaderLine,
} from '../protocols/sip/message/index.ts';
import type { TransportPort } from '../protocols/sip/transaction/layer.ts';
import { interceptedTransport } from '../protocols/sip/transaction/interceptedTransport.ts';
import { responseTarget, type MessageSource, type TransportTarget } from '../protocols/sip/transport/index.ts';
import { arrivedSecure, emptyRoutingStats, outOfDialogPresentity, ownerTargetUri, type OwnerContacts, type SubscribeRouting } from './routingMode.ts';
import type { KeyResolver } from './handlerContext.ts';

/** Marks the branches this proxy makes, so its responses are told apart from the transaction layer's. */
export const PROXY_BRANCH_PREFIX = `${BRANCH_MAGIC_COOKIE}px`;

const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * §16.11: the same branch for every retransmission of a request, different
 * ones for different requests. With an RFC 3261 branch in the top Via that
 * branch (with its sent-by) identifies the transaction; otherwise the
 * recommended fields do. The target is hashed in as the second component.
 */
export function proxyBranch(request: SipMessage, target: string): string {
  const top = request.topVia;
  const first = top?.branch?.startsWith(BRANCH_MAGIC_COOKIE)
    ? sha(`${top.branch}\u0000${top.host}:${top.port ?? ''}`)
    : sha(
        [
          request.headers.get('via') ?? '',
          request.to?.tag ?? '',
          request.from?.tag ?? '',
          request.callId,
          String(request.cseq.seq),
          request.requestUri ?? '',
        ].join('\u0000'),
      );
  return `${PROXY_BRANCH_PREFIX}${first.slice(0, 22)}.${sha(target).slice(0, 8)}`;
}

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'mime-version': 'MIME-Version',
};
/** Header names are stored lower-case; write them the usual way. */
export const headerName = (n: string) => CANONICAL[n] ?? n.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());

type ForwardDecision =
  { kind: 'forward'; request: OutgoingRequest; target: TransportTarget } | { kind: 'too-many-hops' } | { kind: 'bad-extension'; unsupported: string[] };

/** Where a sip: URI is reached: host, port (5060), transport param (UDP unless tcp). */
function uriTarget(uri: string): TransportTarget {
  const u = parseUri(uri);
  if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips') || !u.host) throw new Error(`cannot send to ${uri}: not a sip: URI with a host`);
  return { transport: u.params['transport']?.toLowerCase() === 'tcp' ? 'tcp' : 'udp', host: u.host, port: u.port ?? 5060 };
}

/** Identity headers a proxy passes on only from within the trust domain (RFC 3325 §5). */
const ASSERTED_IDENTITY = new Set(['p-asserted-identity', 'p-preferred-identity']);

/**
 * §16.6 for one target: Request-URI replaced, Max-Forwards decremented (added
 * when absent; 0 → 483), our Via on top with the §16.11 branch. Everything
 * else — To, From, Call-ID, CSeq, Contact, Event, Expires, body — unchanged,
 * except P-Asserted-Identity from a sender outside the trust domain: removed
 * (RFC 3325 §5), since the owner's front end may trust us and would believe it.
 */
export function forwardRequest(request: SipMessage, targetUri: string, sentBy: { host: string; port: number }, fromTrustedProxy = false): ForwardDecision {
  const target = uriTarget(targetUri);
  // §16.3 step 5: this proxy implements no extension, so any Proxy-Require is 420.
  const proxyRequire = splitCommaList(request.headers.getAll('proxy-require').join(','))
    .map((t) => t.trim())
    .filter(Boolean);
  if (proxyRequire.length) return { kind: 'bad-extension', unsupported: proxyRequire };
  const mf = request.headers.get('max-forwards');
  let maxForwards = DEFAULT_MAX_FORWARDS;
  if (mf !== undefined) {
    const n = Number(mf.trim());
    if (!Number.isInteger(n) || n < 0)
      maxForwards = DEFAULT_MAX_FORWARDS; // unparsable: treat as absent
    else if (n === 0) return { kind: 'too-many-hops' };
    else maxForwards = n - 1;
  }
  const via = viaValue({ transport: target.transport, host: sentBy.host, port: sentBy.port, branch: proxyBranch(request, targetUri) });
  const headers: SipHeaderLine[] = [['Via', via]];
  if (mf === undefined) headers.push(['Max-Forwards', String(maxForwards)]);
  for (const [name, value] of request.headers.entries()) {
    if (name === 'content-length') continue;
    if (!fromTrustedProxy && ASSERTED_IDENTITY.has(name)) continue;
    headers.push([headerName(name), name === 'max-forwards' ? String(maxForwards) : value]);
  }
  return { kind: 'forward', request: { kind: 'request', method: request.method, requestUri: targetUri, headers, body: Buffer.from(request.body) }, target };
}

/**
 * §16.7 step 3 / §16.11: a response whose top Via is ours loses it and goes
 * where the next Via says; undefined when ours was the only one (it was for us).
 */
export function relayResponse(response: SipMessage): { response: OutgoingResponse; next: Via } | undefined {
  const entries = response.headers.entries();
  const i = entries.findIndex(([n]) => n === 'via');
  if (i < 0) return undefined;
  const rest = splitCommaList(entries[i]![1]).slice(1);
  const kept = rest.length
    ? [...entries.slice(0, i), ['via', rest.join(', ')] as [string, string], ...entries.slice(i + 1)]
    : [...entries.slice(0, i), ...entries.slice(i + 1)];
  const nextValue = kept.find(([n]) => n === 'via')?.[1];
  const next = nextValue === undefined ? undefined : parseVia(splitCommaList(nextValue)[0] ?? '');
  if (!next) return undefined;
  const headers: SipHeaderLine[] = kept.filter(([n]) => n !== 'content-length').map(([n, v]) => [headerName(n), v]);
  return { response: { kind: 'response', status: response.status!, reason: response.reason ?? '', headers, body: Buffer.from(response.body) }, next };
}

/** Where a relayed response goes (§18.2.2): the Via was stamped with received/rport when the request came in. */
function viaTarget(via: Via): TransportTarget {
  const host = via.received ?? via.host;
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
  return { transport: via.transport.toLowerCase() === 'tcp' ? 'tcp' : 'udp', host, port };
}

interface ProxyOptions {
  owners: OwnerContacts & { close?(): Promise<void> };
  /** Host of our sent-by in the Via we add, when not the listening address. */
  advertisedHost?: string;
  /** Whether a source is a trusted proxy (its P-Asserted-Identity is passed on); default: none is. */
  trusted?: (source: MessageSource) => boolean;
  log?: (line: string) => void;
}

export function proxyRouting(o: ProxyOptions): SubscribeRouting {
  const stats = emptyRoutingStats();
  return {
    mode: 'proxy',
    stats,
    wrapTransport(transport: TransportPort, resolveKey: KeyResolver): TransportPort {
      const sentBy = () => ({ host: o.advertisedHost ?? transport.host, port: transport.port });
      const ours = (v: Via | undefined) => {
        const me = sentBy();
        return v?.branch?.startsWith(PROXY_BRANCH_PREFIX) === true && v.host === me.host && (v.port ?? 5060) === me.port;
      };
      const send = (message: OutgoingRequest | OutgoingResponse, target: TransportTarget) => transport.send(serialize(message), target);

      const forward = async (request: SipMessage, source: MessageSource): Promise<boolean> => {
        const presentityUri = outOfDialogPresentity(request);
        if (!presentityUri) return false;
        const key = await resolveKey(presentityUri);
        if (!key) return false; // not ours (or a group URI): the layer answers
        if (arrivedSecure(request, source.transport)) {
          stats.tlsKept++;
          return false;
        }
        // Members believe the Contacts of what we forward (we are their trusted proxy): only ones we could check.
        if (!contactVerified(request, source, { authenticated: false, fromTrustedProxy: o.trusted?.(source) ?? false, flowRouted: false })) {
          stats.contactKept++;
          return false;
        }
        const contact = o.owners.contactOf(key);
        const me = sentBy();
        if (!contact) {
          stats.ownerUnknown++;
          return false;
        }
        const target = uriTarget(contact);
        if (target.host === me.host && target.port === me.port) return false; // we are the owner's own front end
        const decision = forwardRequest(request, ownerTargetUri(contact, presentityUri), me, o.trusted?.(source) ?? false);
        if (decision.kind === 'bad-extension') {
          await send(
            buildResponse(request, 420, { headers: [['Unsupported', decision.unsupported.join(', ')]] }),
            responseTarget(request.topVia, source).primary,
          );
          return true;
        }
        if (decision.kind === 'too-many-hops') {
          stats.tooManyHops++;
          await send(buildResponse(request, 483), responseTarget(request.topVia, source).primary);
          return true;
        }
        try {
          await send(decision.request, decision.target);
          stats.proxied++;
          return true;
        } catch (err) {
          stats.forwardFailures++;
          o.log?.(`could not forward SUBSCRIBE ${request.callId} to ${contact}, handling it statelessly: ${(err as Error).message}`);
          return false;
        }
      };

      return interceptedTransport(transport, (message, source, layer) => {
        if (!message.isRequest) {
          if (!ours(message.topVia)) return layer(message, source);
          const relayed = relayResponse(message);
          if (!relayed) return;
          stats.relayedResponses++;
          send(relayed.response, viaTarget(relayed.next)).catch((err: Error) => {
            stats.forwardFailures++;
            o.log?.(`could not relay ${message.status} for ${message.callId}: ${err.message}`);
          });
          return;
        }
        if (message.method !== 'SUBSCRIBE') return layer(message, source);
        forward(message, source)
          .catch((err: Error) => {
            o.log?.(`proxying SUBSCRIBE ${message.callId} failed, handling it statelessly: ${err.message}`);
            return false;
          })
          .then((done) => done || layer(message, source));
      });
    },
    close: async () => o.owners.close?.(),
  };
}
