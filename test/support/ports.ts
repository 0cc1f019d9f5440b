// Ports for peers that cannot report an ephemeral port back (SIPp): take one
// the kernel hands out, release it, and give it to the peer.
import { createSocket } from 'node:dgram';

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, host, r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}
