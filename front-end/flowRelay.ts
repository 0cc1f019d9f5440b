// NAT-friendly NOTIFYs (RFC 3581, RFC 5626 §5.3 edge proxy): a handset behind
// NAT opened a pinhole only towards the address its SUBSCRIBE reached, so its
// NOTIFYs must come from there. The front end that answers a SUBSCRIBE sent
// straight by the watcher (one Via) puts a loose Route to itself, with the
// flow it saw in a signed token, first in the Subscription's route set
// (flowRoute). The event manager keeps the route set with the dialog, so the
// notify sink — any instance — sends each NOTIFY to this front end, which
// relays it as an RFC 3261 §16.11 stateless proxy: pops its Route, adds its
// Via, sends it over the watcher's flow from its listening socket, and relays
// the response back by Via. Front ends and sinks scale out independently: a
// dialog's flow is pinned to the front end that saw the SUBSCRIBE, as the
// handset's pinhole is. A token this front end cannot use (minted by another
// secret, a TCP flow that is gone) is answered 430 Flow Failed, and the sink
// then delivers directly.
import { createHash } from 'node:crypto';
import { parseUri, type SipMessage, type Via } from '../protocols/decode/sip/index.ts';
import { splitCommaList } from '../protocols/decode/sip/fieldValues.ts';
import {
  BRANCH_MAGIC_COOKIE,
  buildResponse,
  DEFAULT_MAX_FORWARDS,
  serialize,
  viaValue,
  type OutgoingResponse,
  type SipHeaderLine,
} from '../protocols/sip/message/index.ts';
import type { TransportPort } from '../protocols/sip/transaction/layer.ts';
import { interceptedTransport } from '../protocols/sip/transaction/interceptedTransport.ts';
import {
  flowRoute,
  isFlowRoute,
  isReliable,
  mintFlowToken,
  readFlowToken,
  responseTarget,
  routeUri,
  type MessageSource,
  type TransportTarget,
} from '../protocols/sip/transport/index.ts';
import { headerName, relayResponse } from './routingModeProxy.ts';

/** Marks the branches of requests this relay forwards, so their responses are recognised. */
export const FLOW_BRANCH_PREFIX = `${BRANCH_MAGIC_COOKIE}fl`;

const FLOW_FAILED = 430;

interface FlowRelayOptions {
  /** Signs the flow tokens; front ends sharing it can relay each other's flows after a restart. */
  readonly secret: Buffer;
  /** Host in our Route and Via when the listening address is not reachable as such. */
  readonly advertisedHost?: string;
  readonly log?: (line: string) => void;
}

export class FlowRelay {
  readonly stats = { flowRoutes: 0, relayedRequests: 0, relayedResponses: 0, flowFailed: 0, tooManyHops: 0, relayFailures: 0 };
  private own: { host: string; port: number } | undefined;

  constructor(private readonly o: FlowRelayOptions) {}

  /**
   * The flow route for a SUBSCRIBE's record, or undefined when NOTIFYs should
   * go as before: the sender is not the watcher itself (more than one Via: a
   * proxy that did not Record-Route wants no in-dialog requests), or the
   * watcher did not say it listens where it sends from — neither rport in its
   * Via (RFC 3581, what handsets behind NAT send) nor an RFC 5626 flow offer
   * (`ob` in its Contact, or `Supported: outbound`). A watcher whose Contact
   * is another socket than the one it sends from must get NOTIFYs there.
   */
  routeFor(request: SipMessage, source: MessageSource): string | undefined {
    if (!this.own) return undefined;
    if (request.headers.list('via').length !== 1) return undefined;
    const contact = request.contacts[0]?.uri;
    // A TLS watcher's NOTIFYs must not cross a plain hop (RFC 5630): the sink sends them to its sips:/TLS Contact itself.
    if (source.transport === 'tls' || (contact !== undefined && /^sips:/i.test(contact))) return undefined;
    const offersFlow =
      request.topVia?.rport !== undefined ||
      (contact !== undefined && 'ob' in (parseUri(contact)?.params ?? {})) ||
      request.supported.some((t) => t.toLowerCase() === 'outbound');
    if (!offersFlow) return undefined;
    this.stats.flowRoutes++;
    return flowRoute(mintFlowToken(source, this.o.secret), this.own.host, this.own.port, source.transport);
  }

  /** The transport as the transaction layer should see it: flow-routed requests and their responses never reach it. */
  wrap(transport: TransportPort): TransportPort {
    this.own = { host: this.o.advertisedHost ?? transport.host, port: transport.port };
    return interceptedTransport(transport, (message, source, pass) => {
      if (message.isRequest ? !this.relayRequest(transport, message, source) : !this.relayBack(transport, message)) pass(message, source);
    });
  }

  /** Whether a Route URI names this front end (host and port). */
  private isOurs(uri: string): boolean {
    const u = parseUri(uri);
    const me = this.own!;
    return !!u && u.host.toLowerCase() === me.host.toLowerCase() && (u.port ?? 5060) === me.port;
  }

  /** A request whose top Route is one of our flow routes: relayed (true), else left to the layer (false). */
  private relayRequest(transport: TransportPort, request: SipMessage, source: MessageSource): boolean {
    const entries = request.headers.entries();
    const at = entries.findIndex(([n]) => n === 'route');
    if (at < 0) return false;
    const [top = '', ...rest] = splitCommaList(entries[at]![1]);
    if (!isFlowRoute(top) || !this.isOurs(routeUri(top))) return false;
    const answer = (status: number, reason?: string) => {
      const route = responseTarget(request.topVia, source);
      const res = buildResponse(request, status, reason ? { reason } : {});
      transport.send(serialize(res), route.primary, { reuseOnly: isReliable(route.primary.transport) }).catch(() => {
        if (route.fallback) transport.send(serialize(res), route.fallback).catch(() => {});
      });
    };
    if (request.method === 'ACK') return true; // nothing to answer, and no INVITEs are relayed
    const flow = readFlowToken(parseUri(routeUri(top))?.user ?? '', this.o.secret);
    if (!flow) {
      this.stats.flowFailed++;
      answer(FLOW_FAILED, 'Flow Failed (unknown flow token)');
      return true;
    }
    const mf = Number(request.headers.get('max-forwards') ?? DEFAULT_MAX_FORWARDS);
    if (Number.isInteger(mf) && mf <= 0) {
      this.stats.tooManyHops++;
      answer(483);
      return true;
    }
    // §16.6: our Via on top (branch hashed from the received one and the flow, so a retransmission keeps it),
    // the Route we are popped (§16.4), Max-Forwards decremented, everything else as received.
    const branch = `${FLOW_BRANCH_PREFIX}${createHash('sha256')
      .update(`${request.topVia?.branch ?? request.callId}\u0000${request.topVia?.host ?? ''}:${request.topVia?.port ?? ''}\u0000${top}`)
      .digest('base64url')
      .slice(0, 24)}`;
    const headers: SipHeaderLine[] = [['Via', viaValue({ transport: flow.transport, host: this.own!.host, port: this.own!.port, branch })]];
    if (!request.headers.has('max-forwards')) headers.push(['Max-Forwards', String(DEFAULT_MAX_FORWARDS - 1)]);
    entries.forEach(([name, value], i) => {
      if (name === 'content-length') return;
      if (i === at) {
        if (rest.length) headers.push(['Route', rest.join(', ')]);
        return;
      }
      headers.push([headerName(name), name === 'max-forwards' ? String(Math.max(0, (Number.isInteger(mf) ? mf : DEFAULT_MAX_FORWARDS) - 1)) : value]);
    });
    const target: TransportTarget = { transport: flow.transport, host: flow.address, port: flow.port };
    const bytes = serialize({ kind: 'request', method: request.method, requestUri: request.requestUri ?? '', headers, body: Buffer.from(request.body) });
    // RFC 5626 §5.3: a connection-oriented flow is the watcher's own connection; never open a new one.
    transport.send(bytes, target, { reuseOnly: flow.transport === 'tcp' }).then(
      () => void this.stats.relayedRequests++,
      (err: Error) => {
        this.stats.flowFailed++;
        this.o.log?.(`flow ${flow.transport}:${flow.address}:${flow.port} failed for ${request.method} ${request.callId}: ${err.message}`);
        answer(FLOW_FAILED, 'Flow Failed');
      },
    );
    return true;
  }

  /** A response to a request we relayed: our Via removed, sent where the next Via says (§16.7 step 3). */
  private relayBack(transport: TransportPort, response: SipMessage): boolean {
    const me = this.own!;
    const top = response.topVia;
    if (!top?.branch?.startsWith(FLOW_BRANCH_PREFIX) || top.host !== me.host || (top.port ?? 5060) !== me.port) return false;
    const relayed = relayResponse(response);
    if (!relayed) return true;
    this.stats.relayedResponses++;
    this.sendBack(transport, relayed.response, relayed.next).catch((err: Error) => {
      this.stats.relayFailures++;
      this.o.log?.(`could not relay ${response.status} for ${response.callId}: ${err.message}`);
    });
    return true;
  }

  /** §18.2.2 by the sender's Via (stamped with received/rport on the way in). */
  private sendBack(transport: TransportPort, response: OutgoingResponse, via: Via): Promise<void> {
    const host = via.received ?? via.host;
    const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
    return transport.send(serialize(response), { transport: via.transport.toLowerCase() === 'tcp' ? 'tcp' : 'udp', host, port });
  }
}
