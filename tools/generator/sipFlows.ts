// SIP exchanges between handsets and the P-CSCF: REGISTER, PUBLISH (PIDF),
// SUBSCRIBE with its first NOTIFY, MESSAGE, and INVITE calls with their
// outcomes. Tags, branches and Call-IDs come from one counter, in order.
import { SMS_TEXTS, type Exchanges } from './exchanges.ts';
import { IMS_DOMAIN } from './identity.ts';
import { ipString, ueIp } from './network.ts';
import { pidf } from './pidf.ts';
import type { Activity } from './pidf.ts';
import type { Rng } from './rng.ts';
import { sipRequest, sipResponse } from './sip.ts';
import type { SipBody, SipTransaction } from './sip.ts';

export class SipFlows {
  private sipSeq = 0;

  constructor(private readonly x: Exchanges) {}

  private token(): string {
    return (this.sipSeq++).toString(36);
  }

  private tx(i: number, method: string, requestUri: string, to: string, callId: string, fromTag: string, cseq: number): SipTransaction {
    return { method, requestUri, via: `${ipString(ueIp(i))}:5060`, branch: `z9hG4bK${this.token()}`, from: this.x.subs.aor(i), fromTag, to, callId, cseq };
  }

  private contact(i: number): string {
    return `<sip:+${this.x.subs.msisdn(i)}@${ipString(ueIp(i))}:5060>`;
  }

  /** UE → P-CSCF request at t, response `dt` later; returns the response time. */
  private sipPair(
    i: number,
    t: number,
    tx: SipTransaction,
    extra: string,
    body: SipBody | undefined,
    code: number,
    reason: string,
    toTag: string | undefined,
    respExtra: string,
    r: Rng,
    respBody?: SipBody,
  ): number {
    const enc = this.x.enc;
    const ue = ueIp(i);
    const pcscf = this.x.net.pcscf.ip;
    const tr = t + 0.01 + r.next() * 0.04;
    this.x.at(t, () => enc.sip(ue, pcscf, tx.method, i, (w) => sipRequest(w, tx, extra, body)));
    this.x.at(tr, () => enc.sip(pcscf, ue, `${code} ${tx.method}`, i, (w) => sipResponse(w, tx, code, reason, toTag, respExtra, respBody)));
    return tr;
  }

  register(i: number, t: number, expires: number, r: Rng): number {
    const tx = this.tx(
      i,
      'REGISTER',
      `sip:${IMS_DOMAIN}`,
      this.x.subs.aor(i),
      `${this.token()}@${ipString(ueIp(i))}`,
      this.token(),
      1 + (Math.floor(t) % 100000),
    );
    const contact = this.contact(i);
    return this.sipPair(
      i,
      t,
      tx,
      `Contact: ${contact};expires=${expires}\r\nExpires: ${expires}\r\n`,
      undefined,
      200,
      'OK',
      this.token(),
      `Contact: ${contact};expires=${expires}\r\n`,
      r,
    );
  }

  publish(i: number, t: number, open: boolean, activity: Activity | undefined, r: Rng): number {
    const aor = this.x.subs.aor(i);
    const tx = this.tx(i, 'PUBLISH', aor, aor, `${this.token()}@${ipString(ueIp(i))}`, this.token(), 1);
    const body = { type: 'application/pidf+xml', text: pidf(aor, open, activity) };
    return this.sipPair(i, t, tx, 'Event: presence\r\nExpires: 3600\r\n', body, 200, 'OK', this.token(), `SIP-ETag: e${this.token()}\r\nExpires: 3600\r\n`, r);
  }

  subscribe(w: number, t: number, p: number, r: Rng): void {
    const enc = this.x.enc;
    const subs = this.x.subs;
    const target = subs.aor(p);
    const callId = `${this.token()}@${ipString(ueIp(w))}`;
    const tx = this.tx(w, 'SUBSCRIBE', target, target, callId, this.token(), 1);
    const toTag = this.token();
    const tr = this.sipPair(
      w,
      t,
      tx,
      `Event: presence\r\nAccept: application/pidf+xml\r\nContact: ${this.contact(w)}\r\nExpires: 3600\r\n`,
      undefined,
      200,
      'OK',
      toTag,
      `Expires: 3600\r\nContact: <sip:pcscf1.${IMS_DOMAIN}>\r\n`,
      r,
    );
    // The first NOTIFY carries the presentity's current state.
    const online = subs.attached(p, t) && subs.hasIms(p);
    const notify: SipTransaction = {
      method: 'NOTIFY',
      requestUri: `sip:+${subs.msisdn(w)}@${ipString(ueIp(w))}:5060`,
      via: `${ipString(this.x.net.pcscf.ip)}:5060`,
      branch: `z9hG4bK${this.token()}`,
      from: target,
      fromTag: toTag,
      to: subs.aor(w),
      toTag: tx.fromTag,
      callId,
      cseq: 1,
    };
    const body = { type: 'application/pidf+xml', text: pidf(target, online) };
    const ue = ueIp(w);
    const pcscf = this.x.net.pcscf.ip;
    const tn = tr + 0.01 + r.next() * 0.02;
    this.x.at(tn, () =>
      enc.sip(pcscf, ue, 'NOTIFY', w, (wr) =>
        sipRequest(wr, notify, `Event: presence\r\nSubscription-State: active;expires=3600\r\nContact: <sip:pcscf1.${IMS_DOMAIN}>\r\n`, body),
      ),
    );
    this.x.at(tn + 0.02, () => enc.sip(ue, pcscf, '200 NOTIFY', w, (wr) => sipResponse(wr, notify, 200, 'OK', undefined, '')));
  }

  message(i: number, t: number, b: number, r: Rng): void {
    const to = this.x.subs.aor(b);
    const tx = this.tx(i, 'MESSAGE', to, to, `${this.token()}@${ipString(ueIp(i))}`, this.token(), 1);
    this.sipPair(i, t, tx, '', { type: 'text/plain', text: SMS_TEXTS[r.int(SMS_TEXTS.length)]! }, 200, 'OK', this.token(), '', r);
  }

  /**
   * A voice mail left for `i`: the voicemail server (behind the P-CSCF) sends the handset an unsolicited
   * message-summary NOTIFY (RFC 3842 §3.1; Asterisk and most platforms do) with the new count, answered 200.
   */
  voicemail(i: number, t: number, r: Rng): void {
    const aor = this.x.subs.aor(i);
    const ue = ueIp(i);
    const pcscf = this.x.net.pcscf.ip;
    const fresh = 1 + r.int(3);
    const toTag = this.token();
    const tx: SipTransaction = {
      method: 'NOTIFY',
      requestUri: `sip:+${this.x.subs.msisdn(i)}@${ipString(ue)}:5060`,
      via: `${ipString(pcscf)}:5060`,
      branch: `z9hG4bK${this.token()}`,
      from: `sip:voicemail@${IMS_DOMAIN}`,
      fromTag: this.token(),
      to: aor,
      callId: `${this.token()}@vm.${IMS_DOMAIN}`,
      cseq: 1,
    };
    const body = {
      type: 'application/simple-message-summary',
      text: `Messages-Waiting: yes\r\nMessage-Account: sip:voicemail@${IMS_DOMAIN}\r\nVoice-Message: ${fresh}/${r.int(10)}\r\n`,
    };
    const enc = this.x.enc;
    this.x.at(t, () => enc.sip(pcscf, ue, 'NOTIFY', i, (w) => sipRequest(w, tx, 'Event: message-summary\r\nSubscription-State: active\r\n', body)));
    this.x.at(t + 0.02 + r.next() * 0.03, () => enc.sip(ue, pcscf, '200 NOTIFY', i, (w) => sipResponse(w, tx, 200, 'OK', toTag, '')));
  }

  private sdp(i: number, port: number): SipBody {
    const ip = ipString(ueIp(i));
    return { type: 'application/sdp', text: `v=0\r\no=- ${port} 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8\r\n` };
  }

  call(a: number, t: number, r: Rng): void {
    const enc = this.x.enc;
    const subs = this.x.subs;
    const m = this.x.mix;
    const b = r.int(subs.n);
    const to = subs.aor(b);
    const ue = ueIp(a);
    const pcscf = this.x.net.pcscf.ip;
    const invite = this.tx(a, 'INVITE', to, to, `${this.token()}@${ipString(ue)}`, this.token(), 1);
    const toTag = this.token();
    const offer = this.sdp(a, 40000 + 2 * r.int(10000));
    const contactA = `Contact: ${this.contact(a)}\r\n`;
    const contactB = `Contact: <sip:+${subs.msisdn(b)}@pcscf1.${IMS_DOMAIN}>\r\n`;
    this.x.at(t, () => enc.sip(ue, pcscf, 'INVITE', a, (w) => sipRequest(w, invite, contactA, offer)));
    const reachable = subs.hasIms(b) && subs.attached(b, t) && b !== a;
    const outcome = r.next();
    const fail = (tf: number, code: number, reason: string): void => {
      this.x.at(tf, () => enc.sip(pcscf, ue, `${code} INVITE`, a, (w) => sipResponse(w, invite, code, reason, toTag, '')));
      // ACK to a non-2xx final response is hop-by-hop: same branch, INVITE's CSeq number.
      const ack: SipTransaction = { ...invite, method: 'ACK', toTag };
      this.x.at(tf + 0.01, () => enc.sip(ue, pcscf, 'ACK', a, (w) => sipRequest(w, ack, '')));
    };
    if (!reachable) return fail(t + 0.2 + r.next() * 0.3, 480, 'Temporarily Unavailable');
    if (outcome < m.busyShare) return fail(t + 0.5 + r.next(), 486, 'Busy Here');
    const tRing = t + 0.3 + r.next();
    const noAnswer = outcome < m.busyShare + m.noAnswerShare;
    this.x.at(tRing, () => {
      enc.sip(pcscf, ue, '180 INVITE', a, (w) => sipResponse(w, invite, 180, 'Ringing', toTag, contactB));
      if (noAnswer) fail(tRing + 30, 480, 'Temporarily Unavailable');
    });
    if (noAnswer) return;
    const tOk = tRing + 2 + r.next() * 12;
    const tBye = tOk + 1 + r.exp(m.meanCallSeconds);
    const answer = this.sdp(b, 40000 + 2 * r.int(10000));
    this.x.at(tOk, () => enc.sip(pcscf, ue, '200 INVITE', a, (w) => sipResponse(w, invite, 200, 'OK', toTag, contactB, answer)));
    const ack: SipTransaction = {
      ...invite,
      method: 'ACK',
      branch: `z9hG4bK${this.token()}`,
      toTag,
      requestUri: `sip:+${subs.msisdn(b)}@pcscf1.${IMS_DOMAIN}`,
    };
    this.x.at(tOk + 0.02, () => {
      enc.sip(ue, pcscf, 'ACK', a, (w) => sipRequest(w, ack, ''));
      // What follows is scheduled now so a call in progress holds no queued frames.
      this.publish(a, tOk + 0.2, true, 'on-the-phone', r);
      const bye: SipTransaction = { ...ack, method: 'BYE', branch: `z9hG4bK${this.token()}`, cseq: 2 };
      this.sipPair(a, tBye, bye, '', undefined, 200, 'OK', toTag, '', r);
      this.publish(a, tBye + 0.3, true, undefined, r);
    });
  }
}
