// Ports for peers that cannot report an ephemeral port back (SIPp): take one
// the kernel hands out, release it, and give it to the peer (a SIP server: free on UDP and TCP).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, host, r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}

/** A port free on UDP and on TCP at once, for a SIP server that listens on both (one free on UDP only failed `run sip-front` with EADDRINUSE on TCP now and then). */
export async function freeSipPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort(host);
    const tcp = createServer();
    const free = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    if (free) {
      await new Promise((r) => tcp.close(r));
      return port;
    }
    if (attempt >= 20) throw new Error(`no port free on both UDP and TCP at ${host} after ${attempt + 1} tries`);
  }
}
