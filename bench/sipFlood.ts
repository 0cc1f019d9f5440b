// A bounded SUBSCRIBE flood on loopback against the SIP front end (issue
// 13.8): 20,000 SUBSCRIBEs with random Call-IDs from one source in 10 s, then
// 2,000 TCP connections from that source, then one probe from another source
// (127.0.0.2). Run once without flood limits and once with them, each in a
// process of its own; prints what was recorded, the heap growth, and whether
// the probe was answered. The subscription sink only counts, so the heap
// growth is what a flood costs the front end itself.
//   node --expose-gc --import tsx bench/sipFlood.ts off
//   node --expose-gc --import tsx bench/sipFlood.ts on
import { connect, type Socket } from 'node:net';
import { SipFrontEnd } from '../front-end/sipFrontEnd.ts';
import { presentityKey } from '../front-end/subscribeHandler.ts';
import type { SourceLimitOptions } from '../protocols/sip/transport/sourceLimits.ts';
import { floodSubscribe } from '../test/support/floodRequests.ts';
import { openSipUdpClient } from '../test/support/sipUdpClient.ts';

const HOST = '127.0.0.1';
const REQUESTS = 20_000;
const SECONDS = 10;
const CONNECTIONS = 2_000;

const subscribe = floodSubscribe;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const heapMiB = () => {
  global.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

async function run(label: string, limits: SourceLimitOptions | undefined): Promise<void> {
  let recorded = 0;
  const fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink: { record: async () => void recorded++ },
    ...(limits ? { limits } : {}),
  });
  const flooder = await openSipUdpClient({ host: HOST });
  const heap0 = heapMiB();
  const started = Date.now();
  for (let i = 0; i < REQUESTS; i++) {
    flooder.socket.send(subscribe(flooder.port, i), fe.port, HOST);
    if (i % (REQUESTS / (SECONDS * 20)) === 0) await sleep(Math.max(0, started + (i / REQUESTS) * SECONDS * 1000 - Date.now()));
  }
  await sleep(2000);
  const sockets: Socket[] = [];
  let refused = 0;
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = connect({ host: HOST, port: fe.port, localAddress: HOST });
    s.on('error', () => {});
    s.on('close', () => refused++);
    sockets.push(s);
  }
  await sleep(4000);
  const accepted = fe.transport.stats.tcpConnectionsAccepted;
  const refusedByUs = Object.values(fe.transport.stats.tcpConnectionsRefused).reduce((a, b) => a + b, 0);
  const heap1 = heapMiB();
  const probe = await openSipUdpClient({ host: '127.0.0.2' });
  probe.socket.send(subscribe(probe.port, 1, '127.0.0.2').toString().replaceAll('SUBSCRIBE', 'OPTIONS'), fe.port, HOST);
  const answer = await probe.next(3000).catch(() => undefined);
  console.log(
    `${label}: ${REQUESTS} SUBSCRIBEs in ${SECONDS} s from one source → recorded ${recorded}, rate-limited ${fe.transport.stats.rateLimited}; ` +
      `${CONNECTIONS} TCP connections → held ${accepted - refusedByUs}, refused ${refusedByUs} (client saw ${refused} closed); ` +
      `heap +${(heap1 - heap0).toFixed(1)} MiB (RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB); probe from 127.0.0.2: ${answer ? answer.status : 'no answer'}`,
  );
  for (const s of sockets) s.destroy();
  await flooder.close();
  await probe.close();
  await fe.stop();
}

if (process.argv[2] === 'on')
  await run('limits: 50/s per source (burst 100), 100 TCP per source', { requestsPerSecond: 50, burst: 100, maxTcpConnectionsPerSource: 100 });
else await run('no limits (before)', { maxTcpConnectionsPerSource: 1_000_000, maxTcpConnections: 1_000_000 });
