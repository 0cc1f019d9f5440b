// A Kafka broker stand-in on loopback for the wire client's tests: it reads
// Kafka's framing (size-prefixed requests, header up to the client id) and
// hands each request to the connection's handler, which answers with reply().
// What to answer is each test's own (SASL, group coordinator…).
import net from 'node:net';
import { WireReader, WireWriter } from '../../kafka/kafkaWire.ts';

export interface FakeKafkaRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly id: number;
  /** Positioned after the client id (a flexible request's header tags are still to read). */
  readonly reader: WireReader;
}

/** Sends a response with correlation id `id`; `flexible`: response header v1 (with tags). */
export type FakeKafkaReply = (id: number, flexible: boolean, body: Buffer) => void;

/** `connection` is called per accepted connection (per-connection state lives in its closure) and returns that connection's request handler. */
export async function startFakeKafka(
  connection: (reply: FakeKafkaReply, socket: net.Socket) => (request: FakeKafkaRequest) => void,
): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((sock) => {
    const reply: FakeKafkaReply = (id, flexible, body) => {
      const header = flexible ? new WireWriter().int32(id).tags().bytes() : new WireWriter().int32(id).bytes();
      sock.write(
        new WireWriter()
          .int32(header.length + body.length)
          .push(header)
          .push(body)
          .bytes(),
      );
    };
    const handle = connection(reply, sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const reader = new WireReader(buf.subarray(4, 4 + buf.readInt32BE(0)));
        buf = buf.subarray(4 + buf.readInt32BE(0));
        const apiKey = reader.int16();
        const apiVersion = reader.int16();
        const id = reader.int32();
        reader.string();
        handle({ apiKey, apiVersion, id, reader });
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}
