// The ISC application-server role: S-CSCFs send us third-party REGISTERs
// (TS 24.229 §5.4.1.7) and we publish the registration they carry as a
// signaling event, so IMS registration state reaches presence where no tap
// can see the UE's REGISTER (IPsec, TLS, a core we have no copy of). Only
// configured S-CSCF addresses are served (403 otherwise). The 200 is sent
// once the event is acknowledged by the brokers: an S-CSCF that gets no 200
// retries, or applies its default handling, instead of us losing the state.
import type { SignalingEvent, DeadLetter } from '../../schemas/generated/records.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { DecodeError } from '../../protocols/decode/layer.ts';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import type { NonInviteServerTransaction } from '../../protocols/sip/transaction/serverTransaction.ts';
import { TransactionLayer } from '../../protocols/sip/transaction/layer.ts';
import { SipTransport } from '../../protocols/sip/transport/transport.ts';
import { AddressSet } from '../../protocols/sip/transport/addressSet.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import type { Party } from '../signal.ts';
import { registeredParty, registrationEvent } from './registrationEvent.ts';
import { readThirdPartyRegister } from './thirdPartyRegister.ts';

/** Where events go: resolves once the brokers have them (SignalingPublisher.publish + drain fits). */
export interface RegistrationSink {
  publish(e: SignalingEvent): Promise<void>;
  deadLetter(d: DeadLetter): Promise<void>;
}

export interface IscOptions {
  readonly host: string;
  readonly port?: number;
  /** S-CSCF addresses or networks allowed to send third-party REGISTERs. */
  readonly scscfs: readonly string[];
  readonly plan: NumberingPlan;
  /** The subscriber key of a registered identity, null when it is not ours (answered 200, not published). */
  readonly keyOf: (p: Party) => Promise<string | null>;
  readonly sink: RegistrationSink;
  readonly clock?: () => number;
}

const ALLOW = 'REGISTER, OPTIONS';
/** Seconds an S-CSCF waits before retrying a REGISTER we could not record. */
const RETRY_AFTER_S = 5;

export class IscApplicationServer {
  readonly stats = { registers: 0, deregistrations: 0, published: 0, notSubscriber: 0, refusedSource: 0, malformed: 0, unrecorded: 0 };
  private readonly allowed: AddressSet;
  private readonly now: () => number;

  private constructor(
    private readonly transport: SipTransport,
    private readonly layer: TransactionLayer,
    private readonly options: IscOptions,
  ) {
    this.allowed = new AddressSet(options.scscfs, 'ISC S-CSCF addresses');
    this.now = options.clock ?? Date.now;
  }

  static async start(options: IscOptions): Promise<IscApplicationServer> {
    const transport = await SipTransport.listen({ host: options.host, port: options.port ?? 0 });
    const holder: { server?: IscApplicationServer } = {};
    const layer = new TransactionLayer(transport, { onRequest: (req, tx) => holder.server!.onRequest(req, tx) }, { allow: ['REGISTER', 'OPTIONS'] });
    holder.server = new IscApplicationServer(transport, layer, options);
    return holder.server;
  }

  get port(): number {
    return this.transport.port;
  }

  private async onRequest(req: SipMessage, tx: NonInviteServerTransaction): Promise<void> {
    if (req.method === 'OPTIONS') return tx.respond(200, { headers: [['Allow', ALLOW]] });
    if (req.method !== 'REGISTER') return tx.respond(405, { headers: [['Allow', ALLOW]] });
    if (!this.allowed.has(tx.source.address)) {
      this.stats.refusedSource++;
      return tx.respond(403, { reason: 'Not A Configured S-CSCF' });
    }
    const origin = `${tx.source.transport}:${tx.source.address}:${tx.source.port}`;
    let reg;
    try {
      reg = readThirdPartyRegister(req, this.now(), origin);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.malformed++;
      const letter = deadLetter('isc', e.layer, e.reason, e.message, Buffer.from(req.body), origin, { callId: req.callId, to: req.to?.uri ?? '' }, this.now());
      await this.options.sink.deadLetter(letter).catch(() => undefined);
      return tx.respond(400, { reason: e.message.slice(0, 100).replace(/[\r\n]/g, ' ') });
    }
    this.stats.registers++;
    if (reg.expires === 0) this.stats.deregistrations++;
    const party = registeredParty(reg.facts.aor, this.options.plan);
    const subscriber = party ? await this.options.keyOf(party) : null;
    if (party && subscriber) {
      try {
        await this.options.sink.publish(registrationEvent(reg.facts, party, subscriber));
        this.stats.published++;
      } catch {
        this.stats.unrecorded++;
        return tx.respond(500, { reason: 'Registration Not Recorded', headers: [['Retry-After', String(RETRY_AFTER_S)]] });
      }
    } else {
      this.stats.notSubscriber++;
    }
    const contact = req.headers.get('contact');
    const headers: [string, string][] = [['Expires', String(reg.expires)]];
    // RFC 3261 §10.3 step 8: the 200 lists the binding — here the S-CSCF's, with what it was granted.
    if (contact && !req.contactWildcard && req.contacts[0]) headers.push(['Contact', `<${req.contacts[0].uri}>;expires=${reg.expires}`]);
    return tx.respond(200, { headers });
  }

  async close(): Promise<void> {
    this.layer.close();
    await this.transport.close();
  }
}
