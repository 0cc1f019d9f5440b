// `presence tap isc` and `presence tap reg-event`: IMS registration state
// obtained from the core (3GPP Pi, issue 19) instead of copied to a tap.
// isc: an ISC application server taking third-party REGISTERs from the
// S-CSCFs listed. reg-event: SUBSCRIBE Event: reg at a registrar for each
// IMS public identity in a file, this instance's share of them by the
// subscriber key's partition (--shard i/n), as the event managers share them.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { acknowledgedSink } from '../../taps/reg-event/acknowledgedSink.ts';
import { IscApplicationServer } from '../../taps/reg-event/iscApplicationServer.ts';
import { RegEventAgent } from '../../taps/reg-event/regEventAgent.ts';
import { readRegSubscribers, registeredKeyResolver, registrarAddress } from '../../taps/reg-event/regSubscribers.ts';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { commandLog } from '../logger.ts';
import { untilSignal } from './run.ts';

const say = commandLog('ims-tap', loadSettings);

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be 0-65535, not ${v}`);
  return n;
}

async function runUntilStopped(stop: () => Promise<void>, stats: () => object, failure: Promise<Error>): Promise<void> {
  const timer = setInterval(() => say(JSON.stringify(stats())), 10_000);
  const ended = await Promise.race([untilSignal(), failure.then((e) => `error: ${e.message}`)]);
  clearInterval(timer);
  say(`stopping (${ended})`);
  await stop();
  say(`stopped: ${JSON.stringify(stats())}`);
  if (ended.startsWith('error')) process.exitCode = 1;
}

export function registerImsTapCommands(tap: Command): void {
  tap
    .command('isc')
    .description('ISC application server: third-party REGISTERs from the S-CSCFs become registration events on signaling-events')
    .requiredOption('--port <p>', 'SIP UDP+TCP port to listen on')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .requiredOption('--scscf <addrs>', 'comma-separated S-CSCF addresses or networks allowed to send third-party REGISTERs')
    .option('--no-directory', 'key every identity by itself instead of the subscriber directory')
    .addOption(memberIdOption('isc-tap', 'its transactional id, so a restart fences its predecessor'))
    .addOption(memberIndexOption())
    .action(async (opts: { port: string; host: string; scscf: string; directory: boolean; memberId?: string; memberIndex: string }) => {
      const memberId = memberIdOf('isc-tap', opts.memberId, opts.memberIndex);
      const s = loadSettings();
      say.start();
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      const publisher = new SignalingPublisher(s, memberId);
      let failed: (e: Error) => void = () => {};
      const failure = new Promise<Error>((r) => (failed = r));
      try {
        await directory?.migrate();
        await publisher.connect();
        const server = await IscApplicationServer.start({
          host: opts.host,
          port: port(opts.port, '--port'),
          scscfs: opts.scscf.split(',').filter(Boolean),
          plan: numberingPlan(s),
          keyOf: registeredKeyResolver(directory),
          sink: acknowledgedSink(publisher, failed),
        });
        say(`ISC application server on udp+tcp ${opts.host}:${server.port}, S-CSCFs ${opts.scscf}, publishing to ${s.kafka.brokers}`);
        await runUntilStopped(
          () => server.close(),
          () => server.stats,
          failure,
        );
      } finally {
        await publisher.close().catch(() => undefined);
        await directory?.close();
      }
    });

  tap
    .command('reg-event')
    .description('registration-event agent: SUBSCRIBE Event: reg (RFC 3680) at a registrar for each IMS identity, NOTIFYs → registration events')
    .requiredOption('--registrar <host:port>', 'where the SUBSCRIBEs go (UDP)')
    .requiredOption('--identities <file>', 'IMS public identities to watch, one SIP or tel URI per line')
    .option('--watcher <uri>', 'our From URI', 'sip:presence@localhost')
    .option('--port <p>', 'SIP port for the NOTIFYs (0: any)', '0')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--shard <i/n>', "this instance's share: subscribers whose key's partition modulo n is i", '0/1')
    .option('--expires <s>', 'requested subscription duration', '600')
    .option('--no-directory', 'key every identity by itself instead of the subscriber directory')
    .addOption(memberIdOption('reg-event-tap', 'its transactional id, so a restart fences its predecessor'))
    .addOption(memberIndexOption())
    .action(
      async (opts: {
        memberId?: string;
        memberIndex: string;
        registrar: string;
        identities: string;
        watcher: string;
        port: string;
        host: string;
        shard: string;
        expires: string;
        directory: boolean;
      }) => {
        const memberId = memberIdOf('reg-event-tap', opts.memberId, opts.memberIndex);
        const s = loadSettings();
        const registrar = registrarAddress(opts.registrar, '--registrar');
        const shard = /^(\d+)\/(\d+)$/.exec(opts.shard);
        if (!shard || Number(shard[1]) >= Number(shard[2])) throw new Error(`--shard must be i/n with i < n, not ${opts.shard}`);
        const expiresS = Number(opts.expires);
        if (!(Number.isInteger(expiresS) && expiresS > 0)) throw new Error(`--expires must be a positive number of seconds, not ${opts.expires}`);
        say.start();
        const plan = numberingPlan(s);
        const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
        const publisher = new SignalingPublisher(s, memberId);
        let failed: (e: Error) => void = () => {};
        const failure = new Promise<Error>((r) => (failed = r));
        try {
          await directory?.migrate();
          await publisher.connect();
          const all = await readRegSubscribers(opts.identities, plan, registeredKeyResolver(directory), (aor) => say(`skipping ${aor}: not a subscriber`));
          const subscribers = all.filter((r) => partitionOf(r.key, s.topics.partitions) % Number(shard[2]) === Number(shard[1]));
          const agent = await RegEventAgent.start({
            host: opts.host,
            port: port(opts.port, '--port'),
            registrar: { transport: 'udp', ...registrar },
            watcher: opts.watcher,
            plan,
            expiresS,
            sink: acknowledgedSink(publisher, failed),
          });
          await agent.setSubscribers(subscribers);
          say(
            `reg-event agent on udp ${opts.host}:${agent.port}: ${subscribers.length} subscribers (shard ${opts.shard}) at ${opts.registrar}, publishing to ${s.kafka.brokers}`,
          );
          await runUntilStopped(
            () => agent.close(),
            () => ({ ...agent.stats, subscribed: agent.subscribedKeys.length }),
            failure,
          );
        } finally {
          await publisher.close().catch(() => undefined);
          await directory?.close();
        }
      },
    );
}
