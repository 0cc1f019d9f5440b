// The certificate a new TLS handshake is given: what a test of certificate renewal
// looks at (protocols/tls/certificateReloader.ts), the server verified against `ca`.
import { connect, type PeerCertificate } from 'node:tls';

export function peerCertificate(port: number, o: { ca: Buffer; cert?: Buffer; key?: Buffer }, host = '127.0.0.1'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...o }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}
