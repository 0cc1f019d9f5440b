// `presence run call-handling`: a SIP redirect server (RFC 3261 §8.3) for call
// handling (issue 16 part 5). An INVITE or MESSAGE sent to it is answered —
// never proxied — from the decision of the callee's owning event manager:
// 302 with the target(s) in Contact, 486, 480, 603 (sipAnswer.ts). So a
// Kamailio, an S-CSCF (as an ISC application server) or a softswitch can ask
// it unchanged.
// INVITEs are answered statelessly (§8.2.7): no 100 Trying (a stateless UAS
// sends no provisional response, and the final one comes within milliseconds),
// the answer kept per branch for Timer H (32 s) so a retransmission gets the
// same bytes, and the ACK of that non-2xx answer absorbed. MESSAGE, OPTIONS and
// CANCEL run through the ordinary non-INVITE transaction layer.
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import { parseNameAddr, parseUri } from '../../protocols/decode/sip/index.ts';
import { buildResponse, newTag, serialize } from '../../protocols/sip/message/index.ts';
import { interceptedTransport } from '../../protocols/sip/transaction/interceptedTransport.ts';
import { TransactionLayer } from '../../protocols/sip/transaction/layer.ts';
import type { NonInviteServerTransaction } from '../../protocols/sip/transaction/serverTransaction.ts';
import { isReliable, responseTarget, SipTransport, type MessageSource, type SipTlsOptions } from '../../protocols/sip/transport/index.ts';
import type { SourceLimitOptions } from '../../protocols/sip/transport/sourceLimits.ts';
import type { TrustedProxies } from '../../protocols/sip/transport/trustedProxies.ts';
import { LatencyHistogram } from '../../protocols/http/latencyHistogram.ts';
import type { KeyResolver } from '../../front-end/handlerContext.ts';
import type { Medium } from '../../subscriber/call-handling/callDecision.ts';
import type { CallDecider, OwnerFailure } from './ownerDecisions.ts';
import { sipAnswerOf, type SipAnswer } from './sipAnswer.ts';

export const CALL_HANDLING_METHODS = ['INVITE', 'ACK', 'CANCEL', 'MESSAGE', 'OPTIONS'] as const;
/** Timer H (64 × T1): how long a retransmitted INVITE may still arrive. */
const ANSWER_KEPT_MS = 32_000;
const ANSWERS_KEPT_MAX = 100_000;
/** Owner not asked or not answering: the upstream proxy may try another server (§21.5.4). */
const RETRY_AFTER_S = '1';

interface CallHandlingStats {
  requests: Record<string, number>;
  responses: Record<number, number>;
  /** Decisions by action (accept, forward, …) as the owners gave them. */
  decisions: Record<string, number>;
  /** Owners not asked or not answering, by reason (answered 503). */
  ownerFailures: Partial<Record<OwnerFailure, number>>;
  /** INVITE retransmissions answered from the kept answer. */
  retransmissions: number;
  sendFailures: number;
  /** Request received → answer sent, for decided requests. */
  decisionSeconds: LatencyHistogram;
}

export interface CallHandlingOptions {
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  /** The owners' decisions (OwnerDecisions: their member APIs). */
  readonly owners: CallDecider;
  /** Request-URI (or To) → the callee's subscriber key (the directory, as the SIP front end keys). */
  readonly resolveKey: KeyResolver;
  /** Where voicemail calls go (RFC 4458 target and cause added); absent: busy/unavailable are rejected. */
  readonly voicemail?: string;
  /** Take the caller from P-Asserted-Identity at all (RFC 3325). Default true; false: From only. */
  readonly trustAssertedIdentity?: boolean;
  /** Whose P-Asserted-Identity is believed (the settings' trusted proxies); absent: nobody's, From is the caller. */
  readonly trustedProxies?: TrustedProxies;
  /** Flood limits of its transport (the SIP edge's settings) and its transaction cap. */
  readonly limits?: SourceLimitOptions;
  readonly maxServerTransactions?: number;
  /** SIP over TLS beside UDP/TCP (its port in tls.port); absent: none. */
  readonly tls?: SipTlsOptions;
}

interface KeptAnswer {
  bytes: Buffer | undefined;
  at: number;
}

/** The medium a request opens: a MESSAGE is written; an INVITE whose SDP offers video is video; else voice. */
export function mediumOf(request: SipMessage): Medium {
  if (request.method === 'MESSAGE') return 'message';
  const sdp = request.contentType?.mediaType === 'application/sdp' ? request.body.toString('latin1') : '';
  return /^m=video [1-9]/m.test(sdp) ? 'video' : 'voice';
}

/** RFC 3261 §20.26: Priority urgent or emergency. */
export function isUrgent(request: SipMessage): boolean {
  const p = request.headers.get('priority')?.trim().toLowerCase();
  return p === 'urgent' || p === 'emergency';
}

/** The caller: the asserted identity when trusted (RFC 3325), else From; anonymous (RFC 3323) is nobody. */
export function callerOf(request: SipMessage, trustAsserted: boolean): string | undefined {
  const asserted = trustAsserted ? request.headers.getAll('p-asserted-identity').flatMap((v) => v.split(',')) : [];
  for (const a of asserted) {
    const uri = parseNameAddr(a.trim())?.uri;
    if (uri) return uri;
  }
  const from = request.from?.uri;
  if (!from || /anonymous\.invalid/i.test(from) || /^sips?:anonymous@/i.test(from)) return undefined;
  return from;
}

export class CallHandlingServer {
  readonly stats: CallHandlingStats = {
    requests: {},
    responses: {},
    decisions: {},
    ownerFailures: {},
    retransmissions: 0,
    sendFailures: 0,
    decisionSeconds: new LatencyHistogram(),
  };
  private readonly layer: TransactionLayer;
  /** INVITE answers by branch, for retransmissions (undefined bytes: still deciding). */
  private readonly answers = new Map<string, KeptAnswer>();

  private constructor(
    readonly transport: SipTransport,
    private readonly o: CallHandlingOptions,
  ) {
    const port = interceptedTransport(transport, (message, source, pass) => {
      if (message.isRequest && message.method === 'INVITE') this.invite(message, source);
      else pass(message, source);
    });
    this.layer = new TransactionLayer(
      port,
      { onRequest: (req, tx) => this.nonInvite(req, tx) },
      { allow: [...CALL_HANDLING_METHODS], ...(o.maxServerTransactions !== undefined ? { maxServerTransactions: o.maxServerTransactions } : {}) },
    );
  }

  static async start(o: CallHandlingOptions): Promise<CallHandlingServer> {
    return new CallHandlingServer(
      await SipTransport.listen({ host: o.host, port: o.port, ...(o.limits ? { limits: o.limits } : {}), ...(o.tls ? { tls: o.tls } : {}) }),
      o,
    );
  }

  get port(): number {
    return this.transport.port;
  }

  /** The TLS listener's port; 0 without one. */
  get tlsPort(): number {
    return this.transport.tlsPort;
  }

  async stop(): Promise<void> {
    this.layer.close();
    await this.transport.close();
  }

  private count(method: string): void {
    this.stats.requests[method] = (this.stats.requests[method] ?? 0) + 1;
  }

  private counted(status: number): void {
    this.stats.responses[status] = (this.stats.responses[status] ?? 0) + 1;
  }

  private invite(request: SipMessage, source: MessageSource): void {
    const branch = request.topVia?.branch;
    if (!branch) return; // no Via branch: nowhere to answer reliably (the parser lets it through)
    const now = Date.now();
    const kept = this.answers.get(branch);
    if (kept && now - kept.at < ANSWER_KEPT_MS) {
      this.stats.retransmissions++;
      if (kept.bytes) this.send(request, source, kept.bytes);
      return;
    }
    this.count('INVITE');
    this.keep(branch, { bytes: undefined, at: now });
    const started = process.hrtime.bigint();
    const toTag = newTag();
    void this.answer(request, source).then(
      (a) => {
        const bytes = serialize(buildResponse(request, a.status, { headers: a.headers, toTag }));
        this.keep(branch, { bytes, at: Date.now() });
        this.counted(a.status);
        this.stats.decisionSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.send(request, source, bytes);
      },
      () => {
        // answer() catches its own failures; this only guards the promise chain.
        const bytes = serialize(buildResponse(request, 500, { toTag }));
        this.keep(branch, { bytes, at: Date.now() });
        this.counted(500);
        this.send(request, source, bytes);
      },
    );
  }

  private keep(branch: string, a: KeptAnswer): void {
    this.answers.delete(branch);
    this.answers.set(branch, a);
    // Oldest first (insertion order): drop what Timer H has outlived, and never hold more than the cap.
    for (const [b, k] of this.answers) {
      if (this.answers.size <= ANSWERS_KEPT_MAX && a.at - k.at < ANSWER_KEPT_MS) break;
      this.answers.delete(b);
    }
  }

  private send(request: SipMessage, source: MessageSource, bytes: Buffer): void {
    const route = responseTarget(request.topVia, source);
    this.transport.send(bytes, route.primary, { reuseOnly: isReliable(route.primary.transport) }).catch(() => this.stats.sendFailures++);
  }

  private async nonInvite(request: SipMessage, tx: NonInviteServerTransaction): Promise<void> {
    this.count(request.method);
    const respond = (a: SipAnswer) => {
      this.counted(a.status);
      return tx.respond(a.status, { headers: a.headers });
    };
    if (request.method === 'OPTIONS') return respond({ status: 200, headers: [['Allow', CALL_HANDLING_METHODS.join(', ')]] });
    if (request.method === 'CANCEL') {
      // The INVITE was answered at once: nothing left to cancel (§9.2); an unknown branch is 481.
      const branch = request.topVia?.branch;
      return respond({ status: branch && this.answers.has(branch) ? 200 : 481, headers: [] });
    }
    if (request.method !== 'MESSAGE') return respond({ status: 405, headers: [['Allow', CALL_HANDLING_METHODS.join(', ')]] });
    const started = process.hrtime.bigint();
    const a = await this.answer(request, tx.source);
    this.stats.decisionSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return respond(a);
  }

  /** What to answer an INVITE or MESSAGE: the checks, then the owner's decision. */
  private async answer(request: SipMessage, source: MessageSource): Promise<SipAnswer> {
    const refused = refusal(request);
    if (refused) return refused;
    const uri = calleeTarget(request);
    if (!uri) return { status: 416, headers: [] };
    const key = await this.o.resolveKey(uri);
    if (!key) return { status: 404, headers: [] };
    // A P-Asserted-Identity is the caller only from a trusted proxy: from anyone else it is a header anyone can write.
    const caller = callerOf(request, (this.o.trustAssertedIdentity ?? true) && (this.o.trustedProxies?.has(source) ?? false));
    const answer = await this.o.owners.decide(key, {
      ...(caller !== undefined ? { caller } : {}),
      medium: mediumOf(request),
      urgent: isUrgent(request),
      voicemail: this.o.voicemail !== undefined,
    });
    if (answer.kind === 'unavailable') {
      this.stats.ownerFailures[answer.reason] = (this.stats.ownerFailures[answer.reason] ?? 0) + 1;
      return { status: 503, headers: [['Retry-After', RETRY_AFTER_S]] };
    }
    if (answer.kind === 'no-state') {
      this.stats.decisions['no-state'] = (this.stats.decisions['no-state'] ?? 0) + 1;
      return { status: 480, headers: [['Reason', 'SIP;cause=480;text="unknown"']] };
    }
    this.stats.decisions[answer.decision.action] = (this.stats.decisions[answer.decision.action] ?? 0) + 1;
    return sipAnswerOf(answer.decision, uri, this.o.voicemail);
  }
}

/** §8.2.2: what a redirect server refuses before asking anyone. */
function refusal(request: SipMessage): SipAnswer | undefined {
  const mf = request.headers.get('max-forwards');
  if (mf !== undefined && mf.trim() === '0') return { status: 483, headers: [] };
  // We implement no extension: any Require is unsupported (§8.2.2.3).
  if (request.require.length) return { status: 420, headers: [['Unsupported', request.require.join(', ')]] };
  return undefined;
}

/**
 * The callee's URI: the Request-URI when it names a user, else the To (a
 * request routed here by a host-only Request-URI, e.g. an ISC AS address); a
 * scheme other than sip, sips, tel → undefined (416 Unsupported URI Scheme).
 */
export function calleeTarget(request: SipMessage): string | undefined {
  const r = request.requestUri ? parseUri(request.requestUri) : undefined;
  if (!r || !['sip', 'sips', 'tel'].includes(r.scheme)) return undefined;
  if (r.user) return request.requestUri;
  const to = request.to?.uri;
  const t = to ? parseUri(to) : undefined;
  return t && ['sip', 'sips', 'tel'].includes(t.scheme) ? to : request.requestUri;
}
