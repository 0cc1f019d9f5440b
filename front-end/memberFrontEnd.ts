// An event manager's own SIP contact: a stateless front end beside the
// member, so a SUBSCRIBE that a redirect or proxy front end sends to the
// partition's owner is accepted there. The caller (`run event-manager
// --sip-port`) starts it and hands the contact to the member's reports; the
// event manager itself knows nothing of SIP. With `--sip-tls-port` it also
// listens for SIP over TLS (the SIP certificate settings) and advertises a
// sips: contact beside the plain one, so a redirect front end can send a
// watcher that must stay on TLS to the owner (RFC 5630 §3).
import os from 'node:os';
import type { Settings } from '../config/settings.ts';
import { sipTlsOnPort } from '../config/sipTlsFiles.ts';
import type { SipTlsOptions } from '../protocols/sip/transport/index.ts';
import type { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { startSipFrontEnd, type SipFrontEnd } from './sipFrontEnd.ts';

interface MemberFrontEndOptions {
  memberId: string;
  /** Port (0: any free port). */
  port: number;
  /** Address it listens on. Default 127.0.0.1. */
  host?: string;
  /** Host put in the advertised contact, when the listening address is not reachable as such (0.0.0.0, NAT). */
  advertisedHost?: string;
  /** Subscriber directory for the keys (use the same as the other front ends). */
  directory?: SubscriberDirectory;
  /** SIP over TLS beside UDP/TCP, its port in `tls.port` (0: any free port); absent: plain only. memberTls() reads it from the settings. */
  tls?: SipTlsOptions;
  log?: (line: string) => void;
}

export interface MemberFrontEnd {
  readonly frontEnd: SipFrontEnd;
  /** The SIP URI to advertise as the member's contact. */
  readonly contact: string;
  /** The SIPS URI of its TLS listener, when it has one. */
  readonly sipsContact?: string;
}

/** The member front end's TLS: the SIP certificate settings (PRESENCE_SIP_TLS_*) on the member's own port. */
export function memberTls(s: Settings, port: number): SipTlsOptions {
  return sipTlsOnPort(s, port, '--sip-tls-port (PRESENCE_EVENT_MANAGER_SIP_TLS_PORT)');
}

function contactHost(listen: string, advertised?: string): string {
  const h = advertised ?? (listen === '0.0.0.0' || listen === '::' ? os.hostname() : listen);
  return h.includes(':') ? `[${h}]` : h;
}

export async function startMemberFrontEnd(s: Settings, o: MemberFrontEndOptions): Promise<MemberFrontEnd> {
  const frontEnd = await startSipFrontEnd(s, {
    host: o.host ?? '127.0.0.1',
    port: o.port,
    frontEndId: `event-manager-${o.memberId}`,
    mode: 'stateless',
    // Off unless asked for: several members on a host would fight over the settings' one TLS port.
    tls: o.tls ?? false,
    ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
    ...(o.directory ? { directory: o.directory } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  const host = contactHost(frontEnd.host, o.advertisedHost);
  return { frontEnd, contact: `sip:${host}:${frontEnd.port}`, ...(o.tls ? { sipsContact: `sips:${host}:${frontEnd.tlsPort}` } : {}) };
}
