// `presence run sip-front`: the stateless SIP front end of the Pw interface.
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { startSipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { checkExpiryPolicy } from '../../front-end/handlerContext.ts';
import { parseFrontEndMode } from '../../front-end/routingMode.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { untilSignal } from './run.ts';

const say = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function seconds(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number of seconds, not ${v}`);
  return Number(v);
}

interface Opts {
  port: string;
  host: string;
  minExpires: string;
  maxExpires: string;
  defaultExpires: string;
  frontEndId?: string;
  publishTimeoutMs?: string;
  directory: boolean;
  groups: boolean;
  statsInterval: string;
  mode?: string;
  advertisedHost?: string;
}

export function registerSipFrontCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  run
    .command('sip-front')
    .description(
      "answer watchers' SUBSCRIBEs (RFC 6665/3856) and record them on the subscriptions topic for the owning event manager; answer handsets' PUBLISHes (RFC 3903) through that event manager (publish-requests → publish-responses)",
    )
    .option('--port <port>', 'SIP port (UDP and TCP)', '5060')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--min-expires <s>', 'shortest subscription accepted (shorter: 423 Interval Too Brief)', '60')
    .option('--max-expires <s>', 'longest subscription granted (longer requests are shortened)', '7200')
    .option('--default-expires <s>', 'granted when a SUBSCRIBE has no Expires', '3600')
    .option('--front-end-id <id>', 'id recorded with each subscription; default host-pid')
    .option(
      '--publish-timeout-ms <ms>',
      "wait this long for the owning event manager's answer to a PUBLISH, then 500 + Retry-After (default PRESENCE_PUBLISH_TIMEOUT_MS, 4000)",
    )
    .option('--no-directory', 'key presentities by their URI only, without the subscriber directory')
    .option('--no-groups', 'do not read the groups topic: group URIs are then treated like any presentity URI')
    .option('--stats-interval <s>', 'seconds between stats lines', '10')
    .option(
      '--mode <mode>',
      "stateless (record SUBSCRIBEs on Kafka), redirect (302 to the owning event manager's SIP contact) or proxy (forward to it, RFC 3261 §16.11); default PRESENCE_FRONT_END_MODE or stateless",
    )
    .option('--advertised-host <host>', 'host put in our Via (proxy) when the listening address is not reachable as such')
    .action(async (opts: Opts) => {
      const port = seconds('--port', opts.port);
      if (port > 65535) throw new Error(`--port must be 0-65535, not ${port}`);
      const policy = checkExpiryPolicy({
        minExpires: seconds('--min-expires', opts.minExpires),
        maxExpires: seconds('--max-expires', opts.maxExpires),
        defaultExpires: seconds('--default-expires', opts.defaultExpires),
      });
      const s = loadSettings();
      const mode = parseFrontEndMode(opts.mode ?? s.frontEnd.mode);
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const publishTimeoutMs = Number(opts.publishTimeoutMs ?? s.frontEnd.publishTimeoutMs);
        if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs < 1 || publishTimeoutMs >= 32_000) {
          throw new Error(
            `--publish-timeout-ms must be a whole number of ms from 1 to 31999 (below SIP Timer F), not ${opts.publishTimeoutMs ?? publishTimeoutMs}`,
          );
        }
        const fe = await startSipFrontEnd(s, {
          host: opts.host,
          port,
          policy,
          publishTimeoutMs,
          ...(opts.frontEndId ? { frontEndId: opts.frontEndId } : {}),
          ...(directory ? { directory } : {}),
          groups: opts.groups,
          mode,
          ...(opts.advertisedHost ? { advertisedHost: opts.advertisedHost } : {}),
          log: say,
        });
        say(
          `SIP front end ${fe.frontEndId} (${mode} mode) on ${opts.host}:${fe.port} (UDP+TCP), expires ${policy.minExpires}-${policy.maxExpires} s (default ${policy.defaultExpires}), ` +
            `subscriptions to ${s.topics.prefix}subscriptions at ${s.kafka.brokers}${directory ? '' : ', no directory'}`,
        );
        const timer = setInterval(() => say(fe.statsLine()), seconds('--stats-interval', opts.statsInterval) * 1000);
        const sig = await untilSignal();
        clearInterval(timer);
        say(`stopping (${sig}); ${fe.statsLine()}`);
        await fe.stop();
      } finally {
        await directory?.close();
      }
    });
}
