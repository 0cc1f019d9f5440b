// One scenario against one running system: the watchers SUBSCRIBE at the
// offered rate and stay in their dialogs; once every SUBSCRIBE was sent (and
// a settle time), SIPp publishers PUBLISH at the offered rate; the watchers
// leave when no NOTIFY came for a quiet time. Both sides log every message
// in SIPp's trace format, which measure.ts reads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSipp } from '../../tools/sipp/sipp.ts';
import { freeUdpPort } from '../../test/support/ports.ts';
import { sleep } from '../../test/support/wait.ts';
import { udpRcvbufErrors } from '../machineUdpDrops.ts';
import { measure, type Measured } from './measure.ts';
import { runNodeWatchers } from './nodeWatchers.ts';
import { HARNESS_UDP_BUFFER_BYTES, publisherRows, publisherScenario, watcherRows } from './scenarios.ts';
import type { SystemUnderTest } from './systemUnderTest.ts';

export interface Scenario {
  readonly name: string;
  readonly presentities: number;
  readonly watchersEach: number;
  readonly publicationsEach: number;
  readonly subscribeRate: number;
  readonly publishRate: number;
}

/** Between the last SUBSCRIBE sent and the first PUBLISH: the dialogs exist before their presentities change. */
const SETTLE_MS = 2000;
/** A PUBLISH or SUBSCRIBE transaction's longest life: SIPp gives up after 10 retransmissions (500 ms doubling, capped at 4 s: ~32 s, Timer F). */
const TRANSACTION_MS = 32_000;

/** `keepTraces`: also write both message logs into `dir`, for a look at the wire. */
export async function runScenario(
  sut: SystemUnderTest,
  sc: Scenario,
  namespace: string,
  dir: string,
  keepTraces = false,
): Promise<Measured & { udpDrops: number }> {
  const dropsBefore = udpRcvbufErrors();
  const dialogs = sc.presentities * sc.watchersEach;
  const publishes = sc.presentities * sc.publicationsEach;
  const subscribeMs = (dialogs / sc.subscribeRate) * 1000;
  const publishMs = (publishes / sc.publishRate) * 1000;
  // A watcher waits for its presentity's next publication at most one round of all presentities after the
  // subscribe phase and the settle time; twice that plus 5 s is quiet enough to mean "no more NOTIFYs".
  const roundMs = (sc.presentities / sc.publishRate) * 1000;
  const quietMs = Math.round(subscribeMs + SETTLE_MS + 2 * roundMs + 5000);
  const publisherCsv = join(dir, `${namespace}-publishers.csv`);
  writeFileSync(publisherCsv, publisherRows(namespace, sc.presentities, sc.publicationsEach));
  // SIPp's Timer E gives up after 10 retransmissions (~32 s, Timer F); -nd: no BYE or abort on an unexpected answer.
  // -buff_size: with the default receive buffer SIPp itself dropped thousands of 200s (HARNESS_UDP_BUFFER_BYTES).
  const common = (port: number) => [
    '-t',
    'u1',
    '-i',
    sut.host,
    '-p',
    String(port),
    '-nd',
    '-max_non_invite_retrans',
    '10',
    '-buff_size',
    String(HARNESS_UDP_BUFFER_BYTES),
  ];
  const target = `${sut.host}:${sut.port}`;
  const watchers = runNodeWatchers({
    host: sut.host,
    port: sut.port,
    rows: watcherRows(namespace, sc.presentities, sc.watchersEach),
    rate: sc.subscribeRate,
    quietMs,
    deadlineMs: Math.round(subscribeMs + SETTLE_MS + publishMs + TRANSACTION_MS + quietMs + 10_000),
  });
  // The watchers send their SUBSCRIBEs meanwhile (runNodeWatchers paces itself).
  await sleep(subscribeMs + SETTLE_MS);
  const publishers = startSipp({
    scenario: publisherScenario(),
    args: [
      target,
      '-inf',
      publisherCsv,
      '-r',
      String(sc.publishRate),
      '-m',
      String(publishes),
      '-l',
      String(publishes + 1),
      ...common(await freeUdpPort(sut.host)),
    ],
    deadlineMs: Math.round(publishMs + TRANSACTION_MS + 10_000),
    traceMessages: true,
  });
  const [p, watcherTrace] = await Promise.all([publishers.done, watchers]);
  const publisherTrace = p.messages ?? Buffer.alloc(0);
  if (keepTraces) {
    writeFileSync(join(dir, `${sut.name}-${namespace}-watchers.trace`), watcherTrace);
    writeFileSync(join(dir, `${sut.name}-${namespace}-publishers.trace`), publisherTrace);
  }
  return { ...measure({ watcherTrace, publisherTrace, publicationsEach: sc.publicationsEach }), udpDrops: udpRcvbufErrors() - dropsBefore };
}
