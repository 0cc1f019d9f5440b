// An event manager's own SIP contact: a stateless front end beside the
// member, so a SUBSCRIBE that a redirect or proxy front end sends to the
// partition's owner is accepted there. The caller (`run event-manager
// --sip-port`) starts it and hands the contact to the member's reports; the
// event manager itself knows nothing of SIP.
import os from 'node:os';
import type { Settings } from '../config/settings.ts';
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
  log?: (line: string) => void;
}

export interface MemberFrontEnd {
  readonly frontEnd: SipFrontEnd;
  /** The SIP URI to advertise as the member's contact. */
  readonly contact: string;
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
    // Its contact is advertised as sip: over UDP/TCP; several members on a host would also fight over one TLS port.
    tls: false,
    ...(o.advertisedHost ? { advertisedHost: o.advertisedHost } : {}),
    ...(o.directory ? { directory: o.directory } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  return { frontEnd, contact: `sip:${contactHost(frontEnd.host, o.advertisedHost)}:${frontEnd.port}` };
}
