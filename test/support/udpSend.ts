// Sends datagrams to a local UDP port from a throwaway socket (HEP agents,
// raw SIP senders), resolving once all are handed to the kernel.
import dgram from 'node:dgram';

export function sendDatagrams(port: number, packets: Buffer | readonly Buffer[], host = '127.0.0.1'): Promise<void> {
  const list = Buffer.isBuffer(packets) ? [packets] : packets;
  const sock = dgram.createSocket('udp4');
  return new Promise<void>((resolve, reject) => {
    let left = list.length;
    if (left === 0) return resolve();
    for (const p of list) {
      sock.send(p, port, host, (err) => {
        if (err) return reject(err);
        if (--left === 0) resolve();
      });
    }
  }).finally(() => sock.close());
}
