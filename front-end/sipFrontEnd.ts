// The stateless SIP front end of the Pw interface: listens (UDP + TCP) with
// SipTransport, runs non-INVITE server transactions with TransactionLayer,
// asks subscribeHandler.ts what to answer and — for an accepted SUBSCRIBE —
// records the Subscription on the subscriptions topic (acks=all) BEFORE
// sending the 200: a watcher never holds a 200 for a subscription that is not
// recorded. If the record is not taken, the answer is 500 with Retry-After.
import os from 'node:os';
import type { Settings } from '../config/settings.ts';
import type { Subscription } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import { directoryKey, type SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { identityKey, uriSubscriber } from '../subscriber/identity/subscriberKey.ts';
import { numberingPlan } from '../subscriber/numberingPlan.ts';
import type { NonInviteServerTransaction } from '../protocols/sip/transaction/serverTransaction.ts';
import { TransactionLayer } from '../protocols/sip/transaction/layer.ts';
import { SipTransport } from '../protocols/sip/transport/transport.ts';
import { parseUri } from '../protocols/decode/sip/index.ts';
import { followOwnerContacts, type FrontEndMode, type SubscribeRouting } from './routingMode.ts';
import { proxyRouting } from './routingModeProxy.ts';
import { redirectRouting } from './routingModeRedirect.ts';
import { GroupRouter, GroupsReader, GroupTable, groupIdOf, notGroupUris } from './groupRoutes.ts';
import { answerPublish, type PublishService } from './publishHandler.ts';
import { PublishReplies } from './publishReplies.ts';
import { ALLOWED_METHODS, decide } from './subscribeHandler.ts';
import { checkExpiryPolicy, DEFAULT_EXPIRY_POLICY, type Answer, type ExpiryPolicy, type KeyResolver } from './handlerContext.ts';
import { unsupportedRequire } from './requestChecks.ts';

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
  /** Redirect or proxy mode (routingMode.ts); absent: stateless. */
  readonly routing?: SubscribeRouting;
  /** Host by which others reach us, when not the listening address (also recognised in Request-URIs). */
  readonly advertisedHost?: string;
  readonly log?: (line: string) => void;
}

export class SipFrontEnd {
  readonly stats: SipFrontEndStats = { requests: {}, responses: {}, recorded: 0, recordFailures: 0, sendFailures: 0 };
  readonly frontEndId: string;
  private readonly policy: ExpiryPolicy;
  private stopped = false;

  private constructor(
    readonly transport: SipTransport,
    private readonly o: SipFrontEndCoreOptions,
    private readonly onStop: () => Promise<void>,
  ) {
    this.frontEndId = o.frontEndId ?? `${os.hostname()}-${process.pid}`;
    this.policy = o.policy ?? DEFAULT_EXPIRY_POLICY;
    // Proxy mode sees SUBSCRIBEs (and their responses) before the transaction layer.
    const port = o.routing?.wrapTransport ? o.routing.wrapTransport(transport, o.resolveKey) : transport;
    this.layer = new TransactionLayer(port, { onRequest: (req, tx) => this.handle(req, tx) }, { allow: [...ALLOWED_METHODS] });
  }

  readonly layer: TransactionLayer;

  /** Listens and answers until stop(). `onStop` releases what the caller gave (producer, directory). */
  static async start(o: SipFrontEndCoreOptions, onStop: () => Promise<void> = async () => {}): Promise<SipFrontEnd> {
    checkExpiryPolicy(o.policy ?? DEFAULT_EXPIRY_POLICY);
    const transport = await SipTransport.listen({ host: o.host, port: o.port });
    return new SipFrontEnd(transport, o, onStop);
  }

  get port(): number {
    return this.transport.port;
  }

  get host(): string {
    return this.transport.host;
  }

  private contactUri(request: SipMessage): string {
    // The advertised host when set: the listening address (e.g. 0.0.0.0) may be unreachable.
    const own = this.o.advertisedHost ?? this.host;
    const host = own.includes(':') ? `[${own}]` : own;
    const tcp = request.topVia?.transport?.toLowerCase() === 'tcp';
    return `sip:${host}:${this.port}${tcp ? ';transport=tcp' : ''}`;
  }

  /** A URI naming this front end (host and port), e.g. the Request-URI of a SUBSCRIBE redirected here. */
  private isOwnUri(uri: string): boolean {
    const u = parseUri(uri);
    if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips') || (u.port ?? 5060) !== this.port) return false;
    const host = u.host.toLowerCase();
    return host === this.host.toLowerCase() || host === this.o.advertisedHost?.toLowerCase();
  }

  private async handle(request: SipMessage, tx: NonInviteServerTransaction): Promise<void> {
    this.stats.requests[request.method] = (this.stats.requests[request.method] ?? 0) + 1;
    const ctx = {
      policy: this.policy,
      resolveKey: this.o.resolveKey,
      frontEndId: this.frontEndId,
      contact: this.contactUri(request),
      toTag: tx.toTag,
      isOwnUri: (u: string) => this.isOwnUri(u),
    };
    // Group URIs first (groupRoutes.ts): they are no subscribers.
    // §8.2.2.3 after the method check (405) and before any other: an extension we lack in Require → 420.
    const unsupported = (ALLOWED_METHODS as readonly string[]).includes(request.method) ? unsupportedRequire(request) : undefined;
    const decided: Answer = unsupported
      ? { ...unsupported, toTag: request.to?.tag ?? tx.toTag }
      : request.method === 'PUBLISH' && this.o.publish
        ? await answerPublish(request, { ...ctx, retryAfter: this.o.retryAfter ?? 5, ...(this.o.log ? { log: this.o.log } : {}) }, this.o.publish)
        : ((await this.o.groups?.decide(request, ctx)) ?? (await decide(request, ctx)));
    // Redirect mode: 302 to the owner instead of recording (routingModeRedirect.ts).
    const answer = (decided.record && this.o.routing?.redirect?.(request, decided)) || decided;
    let status = answer.status;
    let spec = { toTag: answer.toTag, headers: answer.headers, ...(answer.reason ? { reason: answer.reason } : {}) };
    if (answer.record) {
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
      `send failures ${this.stats.sendFailures}; server transactions ${this.layer.serverTransactionCount}` +
      (this.o.routing
        ? `; ${this.o.routing.mode}: ${Object.entries(this.o.routing.stats)
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
  /** How long to wait for the owning event manager's answer to a PUBLISH before 500 + Retry-After. Default settings.frontEnd.publishTimeoutMs (4 s). */
  readonly publishTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** The front end wired to Kafka: Subscription records (Avro, Schema Registry) on the subscriptions topic, acks=all. */
export async function startSipFrontEnd(s: Settings, o: SipFrontEndOptions = {}): Promise<SipFrontEnd> {
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const frontEndId = o.frontEndId ?? `${os.hostname()}-${process.pid}`;
  const producer = new RecordProducer(s.kafka.brokers, `sip-front-${frontEndId}`, o.deliveryTimeoutMs ?? 10_000);
  await producer.connect();
  const topic = topicName(s.topics.prefix, 'subscriptions');
  const groupTopic = topicName(s.topics.prefix, 'group-subscriptions');
  const sink: SubscriptionSink = {
    async record(key, value) {
      if (groupIdOf(value.presentity) !== undefined) await producer.send(groupTopic, key, serde.encode('group-subscriptions', value), value.receivedAt);
      else await producer.send(topic, key, serde.encode('subscriptions', value), value.receivedAt);
    },
  };
  let groups: GroupsReader | undefined;
  let publish: PublishReplies | undefined;
  let routing: SubscribeRouting | undefined;
  try {
    const mode = o.mode ?? s.frontEnd.mode;
    if (mode !== 'stateless') {
      const owners = await followOwnerContacts(s, o.log);
      routing =
        mode === 'redirect'
          ? redirectRouting(owners)
          : proxyRouting({ owners, ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}), ...(o.log ? { log: o.log } : {}) });
    }
    if (o.groups ?? true) groups = await GroupsReader.start(s, new GroupTable(numberingPlan(s)), serde, o.log ? { log: o.log } : {});
    publish = await PublishReplies.start({
      brokers: s.kafka.brokers,
      requestTopic: topicName(s.topics.prefix, 'publish-requests'),
      responseTopic: topicName(s.topics.prefix, 'publish-responses'),
      frontEndId,
      send: (t, key, value) => producer.send(t, key, serde.encode('publish-requests', value), value.receivedAt),
      decode: (b) => serde.decode('publish-responses', b),
      timeoutMs: o.publishTimeoutMs ?? s.frontEnd.publishTimeoutMs,
      ...(o.log ? { log: o.log } : {}),
    });
    return await SipFrontEnd.start(
      {
        host: o.host ?? '127.0.0.1',
        port: o.port ?? 5060,
        ...(o.policy ? { policy: o.policy } : {}),
        frontEndId,
        // Group URIs are no subscribers: not proxied, not PUBLISHed to (groupRoutes.ts answers their SUBSCRIBEs).
        resolveKey: groups ? notGroupUris(groups.table, directoryResolver(s, o.directory)) : directoryResolver(s, o.directory),
        sink,
        ...(groups ? { groups: new GroupRouter(groups.table, numberingPlan(s)) } : {}),
        publish,
        ...(routing ? { routing } : {}),
        ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
        ...(o.log ? { log: o.log } : {}),
      },
      async () => {
        await routing?.close();
        await publish?.close();
        await groups?.stop();
        await producer.close();
      },
    );
  } catch (err) {
    await routing?.close();
    await publish?.close();
    await groups?.stop();
    await producer.close();
    throw err;
  }
}
