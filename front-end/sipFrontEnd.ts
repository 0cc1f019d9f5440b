// The stateless SIP front end of the Pw interface: listens (UDP + TCP, and TLS) with
// SipTransport, runs non-INVITE server transactions with TransactionLayer,
// asks subscribeHandler.ts what to answer and — for an accepted SUBSCRIBE —
// records the Subscription on the subscriptions topic (acks=all) BEFORE
// sending the 200: a watcher never holds a 200 for a subscription that is not
// recorded. If the record is not taken, the answer is 500 with Retry-After.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import type { Settings } from '../config/settings.ts';
import { frontEndTls } from '../config/sipTlsFiles.ts';
import type { Subscription } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { TransactionalRecordWriter } from '../kafka/transactionalRecordWriter.ts';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import { directoryKey, type SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { identityKey, uriSubscriber } from '../subscriber/identity/subscriberKey.ts';
import { numberingPlan } from '../subscriber/numberingPlan.ts';
import type { NonInviteServerTransaction } from '../protocols/sip/transaction/serverTransaction.ts';
import { TransactionLayer } from '../protocols/sip/transaction/layer.ts';
import { SipTransport } from '../protocols/sip/transport/transport.ts';
import type { SourceLimitOptions } from '../protocols/sip/transport/sourceLimits.ts';
import { parseUri } from '../protocols/decode/sip/index.ts';
import { followOwnerContacts, type FrontEndMode, type SubscribeRouting } from './routingMode.ts';
import { proxyRouting } from './routingModeProxy.ts';
import { redirectRouting } from './routingModeRedirect.ts';
import { GroupRouter, GroupsReader, GroupTable, groupIdOf, notGroupUris } from './groupRoutes.ts';
import { answerPublish, overloaded, type PublishService } from './publishHandler.ts';
import { PublishReplies } from './publishReplies.ts';
import { ALLOWED_METHODS, decide } from './subscribeHandler.ts';
import { checkExpiryPolicy, DEFAULT_EXPIRY_POLICY, type Answer, type ExpiryPolicy, type KeyResolver } from './handlerContext.ts';
import { hopsExhausted, unsupportedRequire } from './requestChecks.ts';
import { DialogTags } from './dialogTags.ts';
import { RequestAuthenticator } from './requestAuthenticator.ts';
import { StatelessNonces } from '../protocols/sip/auth/statelessNonce.ts';
import { SipCredentials } from '../subscriber/credentials/sipCredentials.ts';
import type { SipHeaderLine } from '../protocols/sip/message/index.ts';
import { FlowRelay } from './flowRelay.ts';
import { frontEndContact, secureTransportRefusal } from './secureTransport.ts';
import type { SipTlsOptions } from '../protocols/sip/transport/index.ts';
import { LatencyHistogram } from '../protocols/http/latencyHistogram.ts';
import { KafkaReadiness } from './kafkaReadiness.ts';
import { TrustedProxies } from '../protocols/sip/transport/trustedProxies.ts';
import { contactVerified } from './contactCheck.ts';
import { messagingEvent, summaryFacts } from '../kafka/messagingRecord.ts';

/** Where accepted subscriptions go; resolves once durably recorded. */
export interface SubscriptionSink {
  record(key: string, value: Subscription): Promise<void>;
}

interface SipFrontEndStats {
  /** Requests handed to us by the transaction layer, by method. */
  requests: Record<string, number>;
  /** Final responses sent, by status code. */
  responses: Record<number, number>;
  /** Subscriptions recorded on Kafka. */
  recorded: number;
  /** Subscriptions Kafka did not take (answered 500). */
  recordFailures: number;
  /** Responses that could not be sent (transport errors). */
  sendFailures: number;
  /** Requests answered 503 because maxInFlight requests were already waiting for Kafka. */
  overloaded: number;
  /** Requests answered 503 because the front end was not ready (Kafka not connected or not taking records). */
  notReady: number;
  /** PUBLISH round trips through the owning event manager (submit → its answer, or the wait given up). */
  /** answered: the owner's answer came back; stored: an initial publication stored (answered by the front end); unanswered: neither, in time. */
  publishRoundTrip: { answered: LatencyHistogram; stored: LatencyHistogram; unanswered: LatencyHistogram };
}

interface SipFrontEndCoreOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly policy?: ExpiryPolicy;
  readonly frontEndId?: string;
  readonly resolveKey: KeyResolver;
  readonly sink: SubscriptionSink;
  /** Answers SUBSCRIBEs for group URIs (records keyed by group id, presentity group:<id>). */
  readonly groups?: GroupRouter;
  /** PUBLISH (RFC 3903) through the owning event manager (publishHandler.ts); without it PUBLISH is 501. */
  readonly publish?: PublishService;
  /** Seconds in Retry-After of the 500 sent when recording fails. Default 5. */
  readonly retryAfter?: number;
  /**
   * Requests (SUBSCRIBEs being recorded, PUBLISHes awaiting their event manager) allowed in
   * flight at once; past it a request that passed its checks is answered 503 + Retry-After
   * (RFC 3261 §21.5.4) without touching Kafka. Default DEFAULT_MAX_IN_FLIGHT.
   */
  readonly maxInFlight?: number;
  /** Redirect or proxy mode (routingMode.ts); absent: stateless. */
  readonly routing?: SubscribeRouting;
  /** Host by which others reach us, when not the listening address (also recognised in Request-URIs). */
  readonly advertisedHost?: string;
  /** NAT-friendly NOTIFYs: records the watcher's flow in the route set and relays NOTIFYs over it (flowRelay.ts). */
  readonly flows?: FlowRelay;
  /** Shared by the front ends: To-tags are derived from it and refreshes with a tag none issued get 481 (dialogTags.ts). */
  readonly dialogSecret?: Buffer;
  /** Authenticates SUBSCRIBE and PUBLISH (requestAuthenticator.ts); absent: the From is believed (local use only). */
  readonly auth?: RequestAuthenticator;
  /** The trust domain's proxies (PRESENCE_SIP_TRUSTED_PROXIES / _NAMES): they vouch for the Contacts they forward, auth or not. */
  readonly trustedProxies?: TrustedProxies;
  /** Publication delegation (SipCredentials.mayPublishFor). */
  readonly mayPublishFor?: (presentity: string, publisher: string) => Promise<boolean>;
  /** Messaging systems that may PUBLISH message-summary for any subscriber (publishHandler.ts); absent or empty: 489. */
  readonly messagingPublishers?: readonly string[];
  /** Flood limits of its transport: per-source rate, TCP caps, read timeout (sourceLimits.ts). */
  readonly limits?: SourceLimitOptions;
  /** Server transactions held at once before new requests get 503 + Retry-After statelessly (TransactionLayer; default 150,000). */
  readonly maxServerTransactions?: number;
  /** Close an idle TCP/TLS connection after this long (default 120 s). */
  readonly tcpIdleTimeoutMs?: number;
  /** Largest message taken on a stream; larger ones are answered 513 (default 64 KiB). */
  readonly maxMessageBytes?: number;
  /** SIP over TLS: certificate, key, port (5061 by default in the CLI), optional client CA (secureTransport.ts for the sips: rules). */
  readonly tls?: SipTlsOptions;
  /** Undefined when ready; else why not: OPTIONS, SUBSCRIBE and PUBLISH are then answered 503 + Retry-After (kafkaReadiness.ts). */
  readonly notReadyReason?: () => string | undefined;
  readonly log?: (line: string) => void;
}

/**
 * In-flight bound: at 4,500 requests/s answered within ~250 ms about 1,100 wait at once; past
 * 2,000 the front end is no longer keeping up, and a quick 503 beats a late answer the client
 * has already retransmitted several times.
 */
export const DEFAULT_MAX_IN_FLIGHT = 2000;

/** What the transport refused on its own (only when something was): floods, bad framing, sizes. */
function transportLimitsLine(st: SipTransport['stats']): string {
  const parts = [
    st.rateLimited ? `rate-limited ${st.rateLimited}` : '',
    ...Object.entries(st.tcpConnectionsRefused).map(([why, n]) => `tcp refused ${why} ${n}`),
    st.tcpSlowClosed ? `tcp slow closed ${st.tcpSlowClosed}` : '',
    st.tooLarge ? `too large ${st.tooLarge}` : '',
    st.tcpFramingClosed ? `tcp framing closed ${st.tcpFramingClosed}` : '',
    ...Object.entries(st.malformed).map(([why, n]) => `malformed ${why} ${n}`),
  ].filter(Boolean);
  return parts.length ? `; transport: ${parts.join(', ')}` : '';
}

export class SipFrontEnd {
  readonly stats: SipFrontEndStats = {
    requests: {},
    responses: {},
    recorded: 0,
    recordFailures: 0,
    sendFailures: 0,
    overloaded: 0,
    notReady: 0,
    publishRoundTrip: { answered: new LatencyHistogram(), stored: new LatencyHistogram(), unanswered: new LatencyHistogram() },
  };
  readonly frontEndId: string;
  private readonly policy: ExpiryPolicy;
  private readonly maxInFlight: number;
  private readonly dialogTags: DialogTags | undefined;
  /** Requests past their checks, waiting for Kafka (a record's ack, or an event manager's answer). */
  private inFlight = 0;
  private stopped = false;

  private constructor(
    readonly transport: SipTransport,
    private readonly o: SipFrontEndCoreOptions,
    private readonly onStop: () => Promise<void>,
  ) {
    this.frontEndId = o.frontEndId ?? `${os.hostname()}-${process.pid}`;
    this.policy = o.policy ?? DEFAULT_EXPIRY_POLICY;
    this.maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.dialogTags = o.dialogSecret ? new DialogTags(o.dialogSecret) : undefined;
    this.publish = o.publish && this.timed(o.publish);
    // Proxy mode sees SUBSCRIBEs (and their responses) before the transaction layer.
    // The flow relay sees flow-routed NOTIFYs and their responses first.
    const relayed = o.flows ? o.flows.wrap(transport) : transport;
    const port = o.routing?.wrapTransport ? o.routing.wrapTransport(relayed, o.resolveKey) : relayed;
    this.layer = new TransactionLayer(
      port,
      { onRequest: (req, tx) => this.handle(req, tx) },
      {
        allow: [...ALLOWED_METHODS],
        ...(o.maxServerTransactions !== undefined ? { maxServerTransactions: o.maxServerTransactions } : {}),
        overloadRetryAfterS: o.retryAfter ?? 5,
      },
    );
  }

  readonly layer: TransactionLayer;
  private readonly publish: PublishService | undefined;

  /** The PUBLISH service with its round trips timed, answered or not (stats.publishRoundTrip). */
  private timed(service: PublishService): PublishService {
    const h = this.stats.publishRoundTrip;
    const time = async <T>(done: LatencyHistogram, call: () => Promise<T>): Promise<T> => {
      const start = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
      try {
        const result = await call();
        done.observe(seconds());
        return result;
      } catch (err) {
        h.unanswered.observe(seconds());
        throw err;
      }
    };
    return {
      submit: (key, request) => time(h.answered, () => service.submit(key, request)),
      store: (key, request) => time(h.stored, () => service.store(key, request)),
      ...(service.messageSummary ? { messageSummary: service.messageSummary.bind(service) } : {}),
    };
  }

  /** Listens and answers until stop(). `onStop` releases what the caller gave (producer, directory). */
  static async start(o: SipFrontEndCoreOptions, onStop: () => Promise<void> = async () => {}): Promise<SipFrontEnd> {
    checkExpiryPolicy(o.policy ?? DEFAULT_EXPIRY_POLICY);
    const transport = await SipTransport.listen({
      host: o.host,
      port: o.port,
      ...(o.limits ? { limits: o.limits } : {}),
      ...(o.tls ? { tls: o.tls } : {}),
      ...(o.tcpIdleTimeoutMs !== undefined ? { tcpIdleTimeoutMs: o.tcpIdleTimeoutMs } : {}),
      ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
    });
    return new SipFrontEnd(transport, o, onStop);
  }

  get port(): number {
    return this.transport.port;
  }

  /** Undefined when ready to answer; else why not (requests get 503 meanwhile). */
  get notReadyReason(): string | undefined {
    return this.o.notReadyReason?.();
  }

  get host(): string {
    return this.transport.host;
  }

  /** The TLS listener's port; 0 without TLS. */
  get tlsPort(): number {
    return this.transport.tlsPort;
  }

  private contactUri(request: SipMessage, tx: NonInviteServerTransaction): string {
    // The advertised host when set: the listening address (e.g. 0.0.0.0) may be unreachable.
    return frontEndContact(this.o.advertisedHost ?? this.host, { port: this.port, tlsPort: this.tlsPort }, request, tx.source.transport);
  }

  /** A URI naming this front end (host and port), e.g. the Request-URI of a SUBSCRIBE redirected here. */
  private isOwnUri(uri: string): boolean {
    const u = parseUri(uri);
    if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips')) return false;
    const port = u.port ?? (u.scheme === 'sips' ? 5061 : 5060);
    if (port !== this.port && (this.tlsPort === 0 || port !== this.tlsPort)) return false;
    const host = u.host.toLowerCase();
    return host === this.host.toLowerCase() || host === this.o.advertisedHost?.toLowerCase();
  }

  /** Takes an in-flight slot, or false when all are taken (the request is then answered 503). */
  private admit(): boolean {
    if (this.inFlight >= this.maxInFlight) {
      this.stats.overloaded++;
      return false;
    }
    this.inFlight++;
    return true;
  }

  /** An in-dialog SUBSCRIBE whose To-tag no front end sharing our dialog secret issued: 481 (dialogTags.ts). Without a secret, not checked. */
  private unknownDialog(request: SipMessage): { status: number; headers: SipHeaderLine[]; reason: string } | undefined {
    const toTag = request.to?.tag;
    if (!this.dialogTags || request.method !== 'SUBSCRIBE' || toTag === undefined) return undefined;
    return request.from?.tag && this.dialogTags.issued(request.callId, request.from.tag, toTag)
      ? undefined
      : { status: 481, headers: [], reason: 'Call/Transaction Does Not Exist' };
  }

  private async handle(request: SipMessage, tx: NonInviteServerTransaction): Promise<void> {
    let admitted = false;
    try {
      await this.answer(request, tx, () => (admitted = this.admit()));
    } finally {
      if (admitted) this.inFlight--;
    }
  }

  private async answer(request: SipMessage, tx: NonInviteServerTransaction, admit: () => boolean): Promise<void> {
    this.stats.requests[request.method] = (this.stats.requests[request.method] ?? 0) + 1;
    const notReady = (ALLOWED_METHODS as readonly string[]).includes(request.method) ? this.o.notReadyReason?.() : undefined;
    if (notReady !== undefined) {
      // OPTIONS too: it is the dispatcher's keepalive, and a 200 would keep us in its set.
      this.stats.notReady++;
      this.stats.responses[503] = (this.stats.responses[503] ?? 0) + 1;
      if (tx.state === 'completed' || tx.state === 'terminated') return;
      await tx
        .respond(503, { toTag: request.to?.tag ?? tx.toTag, headers: [['Retry-After', String(this.o.retryAfter ?? 5)]], reason: 'Service Unavailable' })
        .catch(() => this.stats.sendFailures++);
      return;
    }
    const fromTag = request.from?.tag;
    const toTag = this.dialogTags && fromTag ? this.dialogTags.tagFor(request.callId, fromTag) : tx.toTag;
    const ctx = {
      policy: this.policy,
      resolveKey: this.o.resolveKey,
      frontEndId: this.frontEndId,
      contact: this.contactUri(request, tx),
      toTag,
      isOwnUri: (u: string) => this.isOwnUri(u),
      ...(this.o.mayPublishFor ? { mayPublishFor: this.o.mayPublishFor } : {}),
    };
    const allowed = (ALLOWED_METHODS as readonly string[]).includes(request.method);
    // Group URIs first (groupRoutes.ts): they are no subscribers.
    // §8.2.2.3 after the method check (405) and before any other: an extension we lack in Require → 420.
    // RFC 5630 first: a sips: request that crossed a plain hop is answered 416 whatever else it carries.
    let refused = allowed
      ? (secureTransportRefusal(request, tx.source.transport) ?? hopsExhausted(request) ?? unsupportedRequire(request) ?? this.unknownDialog(request))
      : undefined;
    let authenticated: string | undefined;
    if (!refused && this.o.auth && (request.method === 'SUBSCRIBE' || request.method === 'PUBLISH')) {
      try {
        const outcome = await this.o.auth.authenticate(request, tx.source);
        if ('refuse' in outcome) refused = outcome.refuse;
        else authenticated = outcome.identity;
      } catch (err) {
        // The credentials store did not answer: an outage, not a wrong password. The UA retries later.
        this.o.auth.stats.outages++;
        this.o.log?.(`${request.method} ${request.callId}: credentials unavailable, answering 500: ${(err as Error).message}`);
        refused = { status: 500, headers: [['Retry-After', String(this.o.retryAfter ?? 5)]], reason: 'Server Internal Error (credentials unavailable)' };
      }
    }
    const actx = authenticated !== undefined ? { ...ctx, authenticated } : ctx;
    const decided: Answer = refused
      ? { ...refused, toTag: request.to?.tag ?? toTag }
      : request.method === 'PUBLISH' && this.publish
        ? await answerPublish(
            request,
            {
              ...actx,
              retryAfter: this.o.retryAfter ?? 5,
              admit,
              ...(this.o.messagingPublishers ? { messagingPublishers: this.o.messagingPublishers } : {}),
              ...(this.o.log ? { log: this.o.log } : {}),
            },
            this.publish,
          )
        : ((await this.o.groups?.decide(request, actx)) ?? (await decide(request, actx)));
    // Redirect mode: 302 to the owner instead of recording (routingModeRedirect.ts).
    const routed = (decided.record && this.o.routing?.redirect?.(request, decided)) || decided;
    const flow = routed.record && this.o.flows?.routeFor(request, tx.source);
    const vouched =
      routed.record &&
      contactVerified(request, tx.source, {
        authenticated: authenticated !== undefined,
        fromTrustedProxy: (this.o.trustedProxies?.has(tx.source) || this.o.auth?.isTrusted(tx.source)) ?? false,
        flowRouted: !!flow,
      });
    const answer = routed.record
      ? {
          ...routed,
          record: {
            ...routed.record,
            value: {
              ...routed.record.value,
              routeSet: flow ? [flow, ...routed.record.value.routeSet] : routed.record.value.routeSet,
              contactVerified: !!vouched,
            },
          },
        }
      : routed;
    let status = answer.status;
    let spec = { toTag: answer.toTag, headers: answer.headers, ...(answer.reason ? { reason: answer.reason } : {}) };
    if (answer.record && !admit()) {
      const busy = overloaded(answer.toTag, this.o.retryAfter ?? 5);
      status = busy.status;
      spec = { toTag: busy.toTag, headers: busy.headers, reason: busy.reason! };
    } else if (answer.record) {
      try {
        await this.o.sink.record(answer.record.key, answer.record.value);
        this.stats.recorded++;
      } catch (err) {
        // Never a 200 for a subscription that is not recorded.
        this.stats.recordFailures++;
        this.o.log?.(`SUBSCRIBE ${request.callId} not recorded, answering 500: ${(err as Error).message}`);
        status = 500;
        spec = { toTag: answer.toTag, headers: [['Retry-After', String(this.o.retryAfter ?? 5)]] };
      }
    }
    this.stats.responses[status] = (this.stats.responses[status] ?? 0) + 1;
    if (tx.state === 'completed' || tx.state === 'terminated') return; // abandoned while Kafka was slow
    await tx.respond(status, spec).catch((err: unknown) => {
      this.stats.sendFailures++;
      this.o.log?.(`could not send ${status} for ${request.method} ${request.callId}: ${(err as Error).message}`);
    });
  }

  /** One line for logs: responses by code and recording counts. */
  statsLine(): string {
    const codes = Object.entries(this.stats.responses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([c, n]) => `${c}:${n}`)
      .join(' ');
    const methods = Object.entries(this.stats.requests)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ');
    return (
      `requests ${methods || 'none'}; responses ${codes || 'none'}; recorded ${this.stats.recorded}, record failures ${this.stats.recordFailures}, ` +
      `send failures ${this.stats.sendFailures}, overloaded ${this.stats.overloaded}, not ready ${this.stats.notReady}; server transactions ${this.layer.serverTransactionCount}` +
      publishTimesLine(this.stats.publishRoundTrip) +
      transportLimitsLine(this.transport.stats) +
      (this.o.auth ? `; ${this.o.auth.statsLine()}` : '') +
      (this.o.routing
        ? `; ${this.o.routing.mode}: ${Object.entries(this.o.routing.stats)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : '') +
      (this.o.flows
        ? `; flows: ${Object.entries(this.o.flows.stats)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : '')
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.transport.close();
    this.layer.close();
    await this.onStop();
  }
}

/** Key resolution: the directory's key for the identity when it knows it, else the URI's own key (unless unknown subscribers are dropped → 404). */
export function directoryResolver(s: Settings, directory?: SubscriberDirectory): KeyResolver {
  const plan = numberingPlan(s);
  return async (uri) => {
    const id = uriSubscriber(uri, plan);
    if (!id) return undefined;
    const own = identityKey(id);
    if (!directory) return own;
    const known = await directoryKey(directory, id);
    if (known) return known;
    return s.identity.unknownSubscribers === 'drop' ? undefined : own;
  };
}

interface SipFrontEndOptions {
  readonly host?: string;
  readonly port?: number;
  readonly policy?: ExpiryPolicy;
  readonly frontEndId?: string;
  /** Consult the subscriber directory for the presentity's key (and 404 non-subscribers when unknown ones are dropped). */
  readonly directory?: SubscriberDirectory;
  /** How long Kafka may take to acknowledge a subscription before we answer 500. Default 10 s (below SIP Timer F, 32 s). */
  readonly deliveryTimeoutMs?: number;
  /** Learn group URIs from the groups topic and route their SUBSCRIBEs to group-subscriptions. Default true. */
  readonly groups?: boolean;
  /** stateless (default: settings.frontEnd.mode, PRESENCE_FRONT_END_MODE), redirect (302 to the owner) or proxy (forward to it). */
  readonly mode?: FrontEndMode;
  /** Host by which watchers and event managers reach us, when not the listening address. */
  readonly advertisedHost?: string;
  /** How long to wait for the owning event manager's answer to a PUBLISH before 500 + Retry-After. Default settings.frontEnd.publishTimeoutMs (8 s: longer than a planned partition move, below Timer F). */
  readonly publishTimeoutMs?: number;
  /** Requests waiting for Kafka at once before 503 + Retry-After (SipFrontEndCoreOptions.maxInFlight). */
  readonly maxInFlight?: number;
  /** Relay NOTIFYs over the watcher's own flow (flowRelay.ts). Default true. */
  readonly flows?: boolean;
  /** Messaging systems allowed to PUBLISH message-summary (SIP URIs). Default settings.frontEnd.messagingPublishers (PRESENCE_MESSAGING_PUBLISHERS). */
  readonly messagingPublishers?: readonly string[];
  /** SIP over TLS; default from settings.frontEnd.tls (config/sipTlsFiles.ts), off without a certificate; false: off. */
  readonly tls?: SipTlsOptions | false;
  /**
   * Stateless mode: listen before Kafka answers, answering 503 + Retry-After (OPTIONS too) until it
   * does, and keep retrying, instead of failing the start (`run sip-front` does: an orchestrator
   * restarting it would not bring Kafka back). Default false: resolves once connected.
   */
  readonly serveBeforeReady?: boolean;
  readonly log?: (line: string) => void;
}

/** PUBLISH waits as bucket bounds (`≤25ms`), for the stats line: since start, by outcome, when there were any. */
function publishTimesLine(h: SipFrontEndStats['publishRoundTrip']): string {
  const ms = (x: LatencyHistogram, q: number) => {
    const b = x.quantileBound(q)!;
    return b === Infinity ? '>32s' : `≤${b * 1000}ms`;
  };
  const parts = Object.entries(h)
    .filter(([, x]) => x.count > 0)
    .map(([outcome, x]) => `${outcome} ${x.count} p50 ${ms(x, 0.5)} p99 ${ms(x, 0.99)}`);
  return parts.length ? `; PUBLISH waits: ${parts.join(', ')}` : '';
}

/** The front end wired to Kafka: Subscription records (Avro, Schema Registry) on the subscriptions topic, each in a short transaction. */
export async function startSipFrontEnd(s: Settings, o: SipFrontEndOptions = {}): Promise<SipFrontEnd> {
  // A wrong certificate path stops us before anything connects.
  const tls = o.tls === false ? undefined : (o.tls ?? frontEndTls(s));
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  const frontEndId = o.frontEndId ?? `${os.hostname()}-${process.pid}`;
  const mode = o.mode ?? s.frontEnd.mode;
  const readiness = new KafkaReadiness(s.kafka.brokers);
  // Transactional: the event managers read subscriptions and publish-requests exactly once, and an
  // idempotent producer can write a record twice across an epoch bump (issue 12).
  const newProducer = () =>
    new TransactionalRecordWriter({
      brokers: s.kafka.brokers,
      clientId: `sip-front-${frontEndId}`,
      transactionalId: `${s.topics.prefix}sip-front-${frontEndId}`,
      deliveryTimeoutMs: o.deliveryTimeoutMs ?? 10_000,
    });
  let producer = newProducer();
  const topic = topicName(s.topics.prefix, 'subscriptions');
  const groupTopic = topicName(s.topics.prefix, 'group-subscriptions');
  const sink: SubscriptionSink = {
    async record(key, value) {
      try {
        if (groupIdOf(value.presentity) !== undefined) await producer.send(groupTopic, key, serde.encode('group-subscriptions', value), value.receivedAt);
        else await producer.send(topic, key, serde.encode('subscriptions', value), value.receivedAt);
      } catch (err) {
        readiness.recordFailed(err);
        throw err;
      }
    },
  };
  // The group table is filled by its reader once Kafka answers; routing by it needs no Kafka.
  const table = (o.groups ?? true) ? new GroupTable(numberingPlan(s)) : undefined;
  let groups: GroupsReader | undefined;
  let publish: PublishReplies | undefined;
  let routing: SubscribeRouting | undefined;
  let credentials: SipCredentials | undefined;
  let stopped = false;
  const wakeRetry = new AbortController();

  /** Everything that needs Kafka and the registry; on failure what it opened is closed again. */
  const connectKafka = async (): Promise<void> => {
    try {
      await serde.loadIds();
      await producer.connect();
      if (table) groups = await GroupsReader.start(s, table, serde, o.log ? { log: o.log } : {});
      publish = await PublishReplies.start({
        brokers: s.kafka.brokers,
        requestTopic: topicName(s.topics.prefix, 'publish-requests'),
        responseTopic: topicName(s.topics.prefix, 'publish-responses'),
        frontEndId,
        groupIdPrefix: `${s.topics.prefix}sip-front-replies-`,
        send: (t, key, value) => producer.send(t, key, serde.encode('publish-requests', value), value.receivedAt),
        decode: (b) => serde.decode('publish-responses', b),
        timeoutMs: o.publishTimeoutMs ?? s.frontEnd.publishTimeoutMs,
        ...(o.log ? { log: o.log } : {}),
      });
    } catch (err) {
      await closeKafka(true);
      throw err;
    }
    readiness.connected();
  };
  /** Closes what connectKafka opened, once each; `retry`: the next attempt gets a fresh producer. */
  let producerClosed = false;
  const closeKafka = async (retry = false): Promise<void> => {
    const [p, g, r] = [publish, groups, producer];
    publish = undefined;
    groups = undefined;
    if (retry) producer = newProducer();
    await p?.close();
    await g?.stop();
    if (retry || !producerClosed) await r.close();
    producerClosed = !retry;
  };
  // Until connected, requests are answered 503; PUBLISH reaches this only when ready.
  const lateService: PublishService = {
    submit: (key, request) => (publish ? publish.submit(key, request) : Promise.reject(new Error('not connected to Kafka'))),
    store: (key, request) => (publish ? publish.store(key, request) : Promise.reject(new Error('not connected to Kafka'))),
    // The same record as the availability service's HTTP publish: the owning event manager applies both alike.
    messageSummary: async (key, summary, at) => {
      const e = messagingEvent(key, summaryFacts(summary), at);
      try {
        await producer.send(topicName(s.topics.prefix, 'signaling-events'), key, serde.encode('signaling-events', e), at);
      } catch (err) {
        readiness.recordFailed(err);
        throw err;
      }
    },
  };

  try {
    const a = s.frontEnd.auth;
    if (a.mode !== 'off') {
      credentials = new SipCredentials(s.database.url);
      await credentials.migrate();
      if (!a.nonceSecret) o.log?.('PRESENCE_SIP_NONCE_SECRET is not set: nonces from this front end are not valid at any other (set one secret for all)');
    }
    // One trust domain for the authenticator and, whatever the auth mode, for the Contacts proxies forward (contactCheck.ts).
    const trustedProxies = new TrustedProxies(a.trustedProxies, a.trustedProxyNames);
    const auth =
      credentials && a.mode !== 'off'
        ? new RequestAuthenticator({
            mode: a.mode,
            realm: a.realm,
            nonces: new StatelessNonces(a.nonceSecret ? Buffer.from(a.nonceSecret) : randomBytes(32), a.realm, a.nonceLifetimeS * 1000),
            credentials,
            trustedProxies,
            replayCheck: a.replayCheck,
            algorithms: a.algorithms,
          })
        : undefined;
    const store = credentials;
    // Redirect and proxy modes wrap the transport with the owners they follow on Kafka: connected first.
    // Stateless mode with serveBeforeReady listens first and answers 503 until Kafka answers.
    const early = o.serveBeforeReady === true && mode === 'stateless';
    if (!early) await connectKafka();
    if (mode !== 'stateless') {
      const owners = await followOwnerContacts(s, o.log);
      routing =
        mode === 'redirect'
          ? redirectRouting(owners)
          : proxyRouting({
              owners,
              trusted: (source) => trustedProxies.has(source),
              ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
              ...(o.log ? { log: o.log } : {}),
            });
    }
    const fe = await SipFrontEnd.start(
      {
        host: o.host ?? '127.0.0.1',
        port: o.port ?? 5060,
        ...(o.policy ? { policy: o.policy } : {}),
        frontEndId,
        // Group URIs are no subscribers: not proxied, not PUBLISHed to (groupRoutes.ts answers their SUBSCRIBEs).
        resolveKey: table ? notGroupUris(table, directoryResolver(s, o.directory)) : directoryResolver(s, o.directory),
        sink,
        ...(table ? { groups: new GroupRouter(table, numberingPlan(s)) } : {}),
        publish: lateService,
        messagingPublishers: o.messagingPublishers ?? s.frontEnd.messagingPublishers,
        notReadyReason: () => readiness.notReadyReason,
        ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
        ...(routing ? { routing } : {}),
        ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
        ...(s.frontEnd.dialogSecret ? { dialogSecret: Buffer.from(s.frontEnd.dialogSecret) } : {}),
        limits: s.frontEnd.limits,
        trustedProxies,
        maxServerTransactions: s.frontEnd.limits.maxTransactions,
        tcpIdleTimeoutMs: s.frontEnd.limits.tcpIdleTimeoutS * 1000,
        maxMessageBytes: s.frontEnd.limits.maxMessageBytes,
        ...(tls ? { tls } : {}),
        ...(auth && store ? { auth, mayPublishFor: (p: string, d: string) => store.mayPublishFor(p, d) } : {}),
        ...((o.flows ?? true)
          ? {
              flows: new FlowRelay({
                secret: s.frontEnd.flowSecret ? Buffer.from(s.frontEnd.flowSecret) : randomBytes(32),
                ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
                ...(o.log ? { log: o.log } : {}),
              }),
            }
          : {}),
        ...(o.log ? { log: o.log } : {}),
      },
      async () => {
        stopped = true;
        wakeRetry.abort();
        readiness.close();
        await routing?.close();
        await closeKafka();
        await credentials?.close();
      },
    );
    if (early) {
      // Retried until it works or the front end stops; each failure is logged and named by /readyz.
      void (async () => {
        for (let attempt = 1; !stopped; attempt++) {
          try {
            await connectKafka();
            // Stopped while connecting: what this attempt opened is ours to close.
            if (stopped) await closeKafka();
            else o.log?.(`connected to Kafka at ${s.kafka.brokers}: ready`);
            return;
          } catch (err) {
            const detail = (err as Error).message;
            readiness.connectFailed(detail);
            o.log?.(`not ready (attempt ${attempt}): ${detail}; answering 503 and retrying in ${CONNECT_RETRY_MS / 1000} s`);
            await sleep(CONNECT_RETRY_MS, undefined, { signal: wakeRetry.signal }).catch(() => {});
          }
        }
      })();
    }
    return fe;
  } catch (err) {
    readiness.close();
    await credentials?.close();
    await routing?.close();
    await closeKafka();
    throw err;
  }
}

/** Between attempts to reach Kafka while answering 503. */
const CONNECT_RETRY_MS = 5000;
