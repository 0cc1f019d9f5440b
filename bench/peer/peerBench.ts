// Benchmark against a peer: Kamailio's presence server and our edge, driven
// in one run by the same watchers (nodeWatchers.ts) and SIPp publishers (Kamailio
// first, then ours, one right after the other).
//   npx tsx bench/peer/peerBench.ts [--scenarios a,b,c] [--json]
// Needs kamailio + kamailio-presence-modules + sip-tester (Debian packages) and,
// for our edge, `presence stack up`. Scenarios (issue 11):
//   a: P presentities × W watchers; P·W SUBSCRIBE at --subscribe-rate; 3 PUBLISH per presentity at --publish-rate
//   b: the same with 10 PUBLISH per presentity, so the aggregated PIDF grows past 1,300 bytes
//   c: a's shape, PUBLISH rate stepped through --steps until a step loses; each system's loss-free rate and the ratio
// Before the scenarios each system gets an unmeasured warm-up (--warmup N presentities, a's shape at half
// the rates; 0 skips it): a server in service has run its code paths before, and Node's JIT
// tiers up only after thousands of calls (a cold first second answered PUBLISH ~1 s late, measured).
// Each scenario (and each step) uses presentities of its own on the running system.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sippAvailable } from '../../tools/sipp/sipp.ts';
import { freeSipPort } from '../../test/support/ports.ts';
import { kamailioMissing, startKamailio } from './kamailio.ts';
import { waitUntilPublishAnswered } from './readiness.ts';
import { startOurEdge } from './ourEdge.ts';
import { scenarioTable, stepTable, type ScenarioResult, type StepSummary } from './report.ts';
import { runScenario, type Scenario } from './scenarioRun.ts';
import type { SystemUnderTest } from './systemUnderTest.ts';

const HOST = '127.0.0.1';
const { values: opt } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'a,b,c' },
    systems: { type: 'string', default: 'kamailio,presence-gateway' },
    presentities: { type: 'string', default: '1000' },
    watchers: { type: 'string', default: '3' },
    'subscribe-rate': { type: 'string', default: '1000' },
    'publish-rate': { type: 'string', default: '1500' },
    steps: { type: 'string', default: '250,500,1000,1500,2000,3000,4000,6000,8000,12000' },
    'kamailio-children': { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
    'front-end-workers': { type: 'string', default: '2' },
    warmup: { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x <= 0) throw new Error(`--${name} must be a positive whole number, not ${v}`);
  return x;
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const say = (line: string) => (opt.json ? process.stderr : process.stdout).write(`${line}\n`);

const shape = {
  presentities: int('presentities', opt.presentities),
  watchersEach: int('watchers', opt.watchers),
  subscribeRate: int('subscribe-rate', opt['subscribe-rate']),
};
const publishRate = int('publish-rate', opt['publish-rate']);
const SCENARIOS: Record<'a' | 'b', Scenario> = {
  a: { name: 'a', ...shape, publicationsEach: 3, publishRate },
  b: { name: 'b', ...shape, publicationsEach: 10, publishRate },
};

async function startSystem(name: string, dir: string): Promise<SystemUnderTest> {
  if (name === 'kamailio')
    return startKamailio({ host: HOST, port: await freeSipPort(HOST), children: int('kamailio-children', opt['kamailio-children']), shmMb: 512, logDir: dir });
  if (name === 'presence-gateway')
    return startOurEdge({
      host: HOST,
      port: await freeSipPort(HOST),
      sinkPort: await freeSipPort(HOST),
      partitions: int('partitions', opt.partitions),
      frontEndWorkers: int('front-end-workers', opt['front-end-workers']),
      logDir: dir,
      keepTopics: opt.keep,
    });
  throw new Error(`unknown system ${name} (kamailio, presence-gateway)`);
}

/**
 * Before each scenario: a PUBLISH answered 200 again, so what an overloaded
 * scenario left queued (our PublishRequests and NOTIFYs in Kafka, Kamailio's
 * transactions) does not count against the next one.
 */
async function drained(sut: SystemUnderTest): Promise<void> {
  const ms = await waitUntilPublishAnswered(sut.host, sut.port, 180_000);
  if (ms > 1000) say(`${sut.name}: answered a PUBLISH again after ${(ms / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  if (!sippAvailable()) throw new Error('sipp is not on PATH (apt-get install -y sip-tester)');
  const systems = list(opt.systems);
  const wanted = list(opt.scenarios);
  const steps = list(opt.steps).map((s) => int('steps', s));
  if (systems.includes('kamailio')) {
    const missing = kamailioMissing();
    if (missing) throw new Error(missing);
  }
  const dir = mkdtempSync(join(tmpdir(), 'peer-bench-'));
  say(`process logs and SIPp input in ${dir}`);
  const results: ScenarioResult[] = [];
  const stepped: ScenarioResult[] = [];
  const summaries: StepSummary[] = [];
  for (const system of systems) {
    const sut = await startSystem(system, dir);
    say(`${system}: ready on ${sut.host}:${sut.port} after ${(sut.readyMs / 1000).toFixed(1)} s`);
    try {
      const warmup = Number(opt.warmup);
      if (warmup > 0) {
        const w: Scenario = {
          name: 'warm-up',
          ...shape,
          presentities: warmup,
          subscribeRate: Math.ceil(shape.subscribeRate / 2),
          publicationsEach: 3,
          publishRate: Math.ceil(publishRate / 2),
        };
        const m = await runScenario(sut, w, 'w', dir, false);
        say(`${system} warm-up (not measured): ${JSON.stringify(m)}`);
      }
      for (const name of wanted.filter((w): w is 'a' | 'b' => w === 'a' || w === 'b')) {
        await drained(sut);
        const measured = await runScenario(sut, SCENARIOS[name], name, dir, opt.keep);
        results.push({ system, scenario: name, publishRate, measured });
        say(`${system} ${name}: ${JSON.stringify(measured)}`);
      }
      if (wanted.includes('c')) {
        let lossFreeRate: number | null = null;
        let firstLossRate: number | null = null;
        for (const [i, rate] of steps.entries()) {
          await drained(sut);
          const measured = await runScenario(sut, { ...SCENARIOS.a, name: `c@${rate}`, publishRate: rate }, `c${i}`, dir, opt.keep);
          stepped.push({ system, scenario: `c@${rate}/s`, publishRate: rate, measured });
          say(`${system} c@${rate}/s: ${measured.lossFree ? 'loss-free' : 'LOST'} ${JSON.stringify(measured)}`);
          if (!measured.lossFree) {
            firstLossRate = rate;
            break;
          }
          lossFreeRate = rate;
        }
        summaries.push({ system, lossFreeRate, firstLossRate });
      }
    } finally {
      await sut.stop();
    }
  }
  if (opt.json) {
    process.stdout.write(`${JSON.stringify({ shape, publishRate, steps, results, stepped, summaries }, null, 2)}\n`);
  } else {
    say('');
    say(
      `${shape.presentities} presentities × ${shape.watchersEach} watchers, SUBSCRIBE at ${shape.subscribeRate}/s; a: 3 PUBLISH each, b: 10 each, at ${publishRate}/s`,
    );
    for (const line of scenarioTable(results)) say(line);
    if (stepped.length) {
      say('');
      say(`c: a's shape, PUBLISH rate stepped ${steps.join(', ')}/s`);
      for (const line of scenarioTable(stepped)) say(line);
      say('');
      for (const line of stepTable(summaries)) say(line);
    }
  }
  if (!opt.keep) rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
