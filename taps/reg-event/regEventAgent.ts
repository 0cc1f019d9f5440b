// The registration-event agent (3GPP Pi, RFC 3680): for each provisioned IMS
// subscriber it owns, a SUBSCRIBE Event: reg dialog at the registrar/S-CSCF,
// refreshed before it expires and started again after a 481, a timeout or a
// terminated subscription. Every NOTIFY is answered; its reginfo document is
// applied to the dialog's state and the registrations it changed are published
// as registration signaling events — the 200 only once they are recorded, so an
// outage makes the registrar retry (or end the subscription, and the fresh one
// brings full state) instead of losing the change. A partial NOTIFY after a
// version gap triggers a refresh SUBSCRIBE, whose NOTIFY carries full state.
import { DecodeError } from '../../protocols/decode/layer.ts';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import { newCallId, newTag } from '../../protocols/sip/message/ids.ts';
import type { NonInviteServerTransaction } from '../../protocols/sip/transaction/serverTransaction.ts';
import { TransactionLayer } from '../../protocols/sip/transaction/layer.ts';
import { SipTransport } from '../../protocols/sip/transport/transport.ts';
import type { TransportTarget } from '../../protocols/sip/transport/types.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { REGINFO } from '../../presence-document/regInfo.ts';
import { RegInfoState } from '../../presence-document/regInfoState.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import type { RegistrationSink } from './iscApplicationServer.ts';
import { applyRegNotify } from './regInfoEvents.ts';

/** A provisioned IMS subscriber: its subscriber key and the public identity to watch. */
export interface RegSubscriber {
  readonly key: string;
  readonly aor: string;
}

export interface RegEventAgentOptions {
  readonly host: string;
  readonly port?: number;
  /** Where the SUBSCRIBEs go (the registrar or S-CSCF, or a proxy in front of it). */
  readonly registrar: TransportTarget;
  /** Our identity in From (the presence server's URI). */
  readonly watcher: string;
  readonly plan: NumberingPlan;
  readonly sink: RegistrationSink;
  /** Requested subscription duration. Default 600 s. */
  readonly expiresS?: number;
  /** Wait before subscribing again after a failure. Default 5 s. */
  readonly retryMs?: number;
}

interface RegDialog {
  readonly subscriber: RegSubscriber;
  callId: string;
  fromTag: string;
  toTag: string | undefined;
  cseq: number;
  lastNotifyCseq: number;
  state: RegInfoState;
  timer: ReturnType<typeof setTimeout> | undefined;
  closed: boolean;
}

/** Subscription-State reasons after which subscribing again cannot help (RFC 6665 §4.1.3). */
const FINAL_REASONS = new Set(['rejected', 'noresource', 'invariant']);

export class RegEventAgent {
  readonly stats = {
    subscribes: 0,
    subscribeFailures: 0,
    notifies: 0,
    published: 0,
    stale: 0,
    gaps: 0,
    malformed: 0,
    unrecorded: 0,
    terminated: 0,
    unknownDialog: 0,
  };
  private readonly dialogs = new Map<string, RegDialog>();
  /** Subscriber key → its dialog's current Call-ID. */
  private readonly byKey = new Map<string, string>();
  private readonly expiresS: number;
  private readonly retryMs: number;

  private constructor(
    private readonly transport: SipTransport,
    private readonly layer: TransactionLayer,
    private readonly o: RegEventAgentOptions,
  ) {
    this.expiresS = o.expiresS ?? 600;
    this.retryMs = o.retryMs ?? 5000;
  }

  static async start(o: RegEventAgentOptions): Promise<RegEventAgent> {
    const transport = await SipTransport.listen({ host: o.host, port: o.port ?? 0 });
    const holder: { agent?: RegEventAgent } = {};
    const layer = new TransactionLayer(transport, { onRequest: (req, tx) => holder.agent!.onRequest(req, tx) }, { allow: ['NOTIFY', 'OPTIONS'] });
    holder.agent = new RegEventAgent(transport, layer, o);
    return holder.agent;
  }

  get port(): number {
    return this.transport.port;
  }

  /** Subscribers whose dialogs are up (a 2xx to their last SUBSCRIBE). */
  get subscribedKeys(): string[] {
    return [...this.byKey].filter(([, callId]) => this.dialogs.get(callId)?.toTag !== undefined).map(([key]) => key);
  }

  /**
   * The subscribers this agent owns now: new ones are subscribed, those no longer
   * listed (moved to another owner) are unsubscribed. Called at start and on rebalance.
   */
  async setSubscribers(list: readonly RegSubscriber[]): Promise<void> {
    const wanted = new Map(list.map((s) => [s.key, s]));
    const gone = [...this.byKey.keys()].filter((k) => !wanted.has(k));
    await Promise.all(gone.map((k) => this.unsubscribe(k)));
    for (const s of wanted.values()) if (!this.byKey.has(s.key)) this.open(s);
  }

  private open(subscriber: RegSubscriber): void {
    const d: RegDialog = {
      subscriber,
      callId: newCallId(this.o.host),
      fromTag: newTag(),
      toTag: undefined,
      cseq: 0,
      lastNotifyCseq: -1,
      state: new RegInfoState(),
      timer: undefined,
      closed: false,
    };
    this.dialogs.set(d.callId, d);
    this.byKey.set(subscriber.key, d.callId);
    void this.subscribe(d);
  }

  /** A new dialog for the same subscriber (after 481, timeout, termination). */
  private restart(d: RegDialog, afterMs: number): void {
    if (d.closed) return;
    this.drop(d);
    const timer = setTimeout(() => {
      if (this.byKey.get(d.subscriber.key) === undefined) this.open(d.subscriber);
    }, afterMs);
    timer.unref();
  }

  private drop(d: RegDialog): void {
    d.closed = true;
    if (d.timer) clearTimeout(d.timer);
    this.dialogs.delete(d.callId);
    if (this.byKey.get(d.subscriber.key) === d.callId) this.byKey.delete(d.subscriber.key);
  }

  private schedule(d: RegDialog, ms: number): void {
    if (d.timer) clearTimeout(d.timer);
    d.timer = setTimeout(() => void this.subscribe(d), ms);
    d.timer.unref();
  }

  private async subscribe(d: RegDialog, expiresS = this.expiresS): Promise<void> {
    if (d.closed && expiresS > 0) return;
    this.stats.subscribes++;
    d.cseq++;
    const tx = this.layer.request(
      {
        method: 'SUBSCRIBE',
        requestUri: d.subscriber.aor,
        from: { uri: this.o.watcher, tag: d.fromTag },
        to: { uri: d.subscriber.aor, ...(d.toTag ? { tag: d.toTag } : {}) },
        callId: d.callId,
        cseq: d.cseq,
        contact: `sip:${this.o.host}:${this.transport.port}`,
        headers: [
          ['Event', 'reg'],
          ['Accept', REGINFO],
          ['Expires', String(expiresS)],
        ],
      },
      this.o.registrar,
    );
    const outcome = await tx.outcome;
    if (expiresS === 0) return;
    const status = outcome.kind === 'response' ? (outcome.response.status ?? 0) : 0;
    if (outcome.kind === 'response' && status >= 200 && status < 300) {
      d.toTag ??= outcome.response.to?.tag;
      const granted = outcome.response.expires ?? expiresS;
      // Refresh ahead of expiry: at 80 %, at least 1 s before it.
      this.schedule(d, Math.max(500, Math.min(granted * 800, (granted - 1) * 1000)));
      return;
    }
    this.stats.subscribeFailures++;
    // 481 (dialog gone), a timeout, anything else: a fresh dialog after a pause, Retry-After when given.
    const retryAfter = outcome.kind === 'response' ? outcome.response.retryAfter : undefined;
    this.restart(d, retryAfter !== undefined ? retryAfter * 1000 : this.retryMs);
  }

  private async unsubscribe(key: string): Promise<void> {
    const callId = this.byKey.get(key);
    const d = callId ? this.dialogs.get(callId) : undefined;
    if (!d) return;
    this.drop(d);
    if (d.toTag) await this.subscribe(d, 0);
  }

  private async onRequest(req: SipMessage, tx: NonInviteServerTransaction): Promise<void> {
    if (req.method === 'OPTIONS') return tx.respond(200);
    if (req.method !== 'NOTIFY') return tx.respond(405, { headers: [['Allow', 'NOTIFY, OPTIONS']] });
    const d = this.dialogs.get(req.callId);
    if (!d || req.to?.tag !== d.fromTag || req.event?.type !== 'reg') {
      this.stats.unknownDialog++;
      return tx.respond(481);
    }
    this.stats.notifies++;
    d.toTag ??= req.from?.tag;
    const subState = req.subscriptionState;
    if (req.cseq.seq <= d.lastNotifyCseq) {
      // Older than one already applied (reordered over UDP): its content is superseded.
      this.stats.stale++;
      return tx.respond(200);
    }
    if (req.body.length > 0) {
      let out;
      try {
        out = applyRegNotify(
          d.state,
          { body: req.body, time: Date.now(), callId: d.callId, cseq: req.cseq.seq, origin: `${tx.source.address}:${tx.source.port}` },
          this.o.plan,
          (p) => (p.ids.aor || p.ids.msisdn ? d.subscriber.key : null),
        );
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        this.stats.malformed++;
        const letter = deadLetter('reg-event', e.layer, e.reason, e.message, Buffer.from(req.body), `${tx.source.address}:${tx.source.port}`, {
          callId: req.callId,
          subscriber: d.subscriber.key,
        });
        await this.o.sink.deadLetter(letter).catch(() => undefined);
        d.lastNotifyCseq = req.cseq.seq;
        return tx.respond(200);
      }
      if (out.kind === 'stale') this.stats.stale++;
      if (out.kind === 'resubscribe') {
        // RFC 3680 §5.3: a lost partial NOTIFY; a refresh brings full state, accepted from any version.
        this.stats.gaps++;
        d.state.resetVersion();
        this.schedule(d, 0);
      }
      if (out.kind === 'events') {
        try {
          for (const e of out.events) await this.o.sink.publish(e);
          this.stats.published += out.events.length;
        } catch {
          this.stats.unrecorded++;
          // Not applied as far as the registrar is concerned: the state must come again in full.
          d.state.resetVersion();
          return tx.respond(500, { headers: [['Retry-After', '1']] });
        }
      }
    }
    d.lastNotifyCseq = req.cseq.seq;
    await tx.respond(200);
    if (subState?.state === 'terminated') {
      this.stats.terminated++;
      const reason = subState.reason ?? '';
      if (FINAL_REASONS.has(reason)) this.drop(d);
      else
        this.restart(d, subState.retryAfter !== undefined ? subState.retryAfter * 1000 : reason === 'deactivated' || reason === 'timeout' ? 0 : this.retryMs);
    }
  }

  /** Ends every subscription (Expires: 0, waiting at most `waitMs` for the answers) and closes the transport. */
  async close(waitMs = 2000): Promise<void> {
    const unsubscribed = Promise.all([...this.byKey.keys()].map((k) => this.unsubscribe(k).catch(() => undefined)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A registrar that does not answer must not hold the shutdown for Timer F (32 s): its subscriptions expire anyway.
    await Promise.race([unsubscribed, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    this.layer.close();
    await this.transport.close();
  }
}
