// `presence run <component>`: long-running members of the pipeline.
import type { Command } from 'commander';
import { loadSettings, port, type Settings } from '../../config/settings.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import { CallHandlingServer } from '../../services/call-handling/callHandlingServer.ts';
import { OwnerDecisions } from '../../services/call-handling/ownerDecisions.ts';
import { MemberDecisions } from '../../streams/event-manager/introspection/memberDecisions.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import type { MembershipOptions } from '../../streams/event-manager/membership/membership.ts';
import { parseHandoffMode } from '../../streams/event-manager/handoff/handoffMode.ts';
import { parseGroupAssignor } from '../../kafka/assignors/groupAssignor.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { startHttpApi } from '../../coordinator/httpApi.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { memberTls, startMemberFrontEnd, type MemberFrontEnd } from '../../front-end/memberFrontEnd.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { memberReadiness, registerEventManagerMetrics } from '../../streams/event-manager/eventManagerMetrics.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { registerSipFrontEndMetrics } from '../../front-end/sipFrontEndMetrics.ts';
import type { EventManager } from '../../streams/event-manager/eventManager.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import { locatorReadiness, registerLocatorMetrics } from '../../coordinator/locatorMetrics.ts';
import { startMemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import { regEventConfigured, startMemberRegEvent, type MemberRegEvent } from '../../streams/event-manager/memberRegEvent.ts';
import { registerCallHandlingMetrics } from '../../services/call-handling/callHandlingMetrics.ts';
import { addRedirectOptions, callHandlingEdge, redirectOptionsOf, redirectSettings, type RedirectFlags } from './callHandlingOptions.ts';

const say = commandLog('event-manager', loadSettings);
const sayLocator = commandLog('locator', loadSettings);

interface MembershipFlags {
  sipPort?: string;
  sipHost: string;
  sipTlsPort?: string;
  advertisedHost?: string;
  httpUrl?: string;
  capacity: string;
  sipDirectory: boolean;
}

/** `--sip-port` / `--sip-tls-port`: a port of the member's own SIP front end, if any. */
function sipPortOf(flag: '--sip-port' | '--sip-tls-port', value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const p = Number(value);
  if (!/^\d+$/.test(value) || p > 65535) throw new Error(`${flag} must be 0-65535, not ${value}`);
  return p;
}

/** `run event-manager` flags of its member reports (streams/event-manager/membership/). */
function membershipOptions(o: MembershipFlags): MembershipOptions {
  const capacity = Number(o.capacity);
  if (!Number.isFinite(capacity) || capacity < 0) throw new Error(`--capacity must be a non-negative number of events per second, not ${o.capacity}`);
  if (o.httpUrl !== undefined && !/^https?:\/\/\S+$/.test(o.httpUrl)) throw new Error(`--http-url must be an http(s) URL, not ${o.httpUrl}`);
  return {
    ...(o.httpUrl ? { httpUrl: o.httpUrl } : {}),
    capacityEventsPerSecond: capacity,
  };
}

interface MemberCallHandling {
  readonly server: CallHandlingServer;
  readonly decisions: MemberDecisions;
  stop(): Promise<void>;
}

/**
 * `--call-handling-port`: the redirect server inside the member. Its own keys are decided from
 * its store (MemberDecisions, no HTTP hop); another member's are asked of that owner's API,
 * found through a live view of the members' reports, with `run call-handling`'s default timeout.
 */
async function startMemberCallHandling(
  s: Settings,
  memberId: string,
  em: EventManager,
  opts: { callHandlingPort?: string; callHandlingHost: string },
  answers: ReturnType<typeof redirectOptionsOf>,
): Promise<MemberCallHandling | undefined> {
  const chPort = port('--call-handling-port', opts.callHandlingPort);
  if (chPort === undefined) return undefined;
  const view = await MemberReportsView.open(s, { follow: true, log: say });
  const owners = new OwnerDecisions(view, { timeoutMs: 250, tls: s.http.client, ...(s.http.token ? { token: s.http.token } : {}) });
  const decisions = new MemberDecisions(s, memberId, em, owners);
  // Callees keyed through the subscriber directory, as `run call-handling` does by default.
  const directory = new SubscriberDirectory(s.database.url);
  await directory.migrate();
  try {
    const server = await CallHandlingServer.start({
      host: opts.callHandlingHost,
      port: chPort,
      owners: decisions,
      resolveKey: directoryResolver(s, directory),
      ...answers,
      ...callHandlingEdge(s),
    });
    // Not as a sip: URI: the log would redact it as an identity, and a bench reads the port from this line.
    say(`call-handling redirect server listening on ${opts.callHandlingHost}:${server.port} (UDP+TCP; own subscribers decided from the store)`);
    return {
      server,
      decisions,
      stop: async () => {
        await server.stop();
        owners.close();
        await view.close();
        await directory.close();
      },
    };
  } catch (err) {
    owners.close();
    await view.close();
    await directory.close();
    throw err;
  }
}

/** Resolves on SIGINT/SIGTERM so a component can shut down cleanly (commit, leave the group). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => resolve(sig);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/**
 * Waits for a signal or for the component to end. A component that fails is
 * reported as `failure`: the caller stops it cleanly (leaving its consumer
 * group) and then rethrows, so the process exits with status 1 instead of
 * staying up holding partitions.
 */
export async function untilStopped(done?: Promise<void>): Promise<{ ended: string; failure?: Error }> {
  let failure: Error | undefined;
  const ended = await Promise.race([
    untilSignal(),
    ...(done
      ? [
          done.then(
            () => 'ended',
            (err: Error) => ((failure = err), `failed: ${err.message}`),
          ),
        ]
      : []),
  ]);
  return failure ? { ended, failure } : { ended };
}

export function registerRunCommands(program: Command): void {
  const run = program.command('run').description('run a pipeline component until interrupted (SIGINT/SIGTERM stop it cleanly)');

  const eventManager = run.command('event-manager');
  addAdminOptions(eventManager, 'eventManager');
  // The role's settings are named as its flags; the rest are shared settings of the event manager.
  flagsFromSettings(eventManager, (s) => ({
    ...s.roles.eventManager,
    handoff: s.eventManager.handoff,
    assignor: s.eventManager.assignor,
    maxOutageS: s.eventManager.maxOutageS,
    // The in-member redirect server answers as `run call-handling` does: the same settings.
    ...redirectSettings(s),
  }));
  eventManager
    .description(
      'join the event-manager consumer group and process the partitions it is assigned; with PRESENCE_REG_EVENT_REGISTRAR and PRESENCE_REG_EVENT_IDENTITIES also SUBSCRIBE Event: reg (RFC 3680) for the listed IMS subscribers of its partitions, the dialogs moving with them on rebalance',
    )
    .addOption(
      memberIdOption(
        'event-manager',
        'its static membership (group.instance.id) and transactional id derive from it, so a restart fences its predecessor and reclaims exactly its partitions',
        'PRESENCE_EVENT_MANAGER_MEMBER_ID',
      ),
    )
    .addOption(memberIndexOption())
    .option('--static', 'static membership (the default; wins over PRESENCE_EVENT_MANAGER_DYNAMIC=true)')
    .option('--dynamic', 'dynamic membership instead: a restart joins as a new member (its partitions wait for the session timeout)')
    .option(
      '--protocol <p>',
      'group protocol: consumer (KIP-848, server-side range assignor keeping co-partitioned topics together) or classic (client-side range, eager)',
      'consumer',
    )
    .option('--stats-interval <s>', 'seconds between progress lines', '10')
    .option(
      '--sip-port <port>',
      "run an embedded stateless SIP front end on this port (UDP+TCP) and advertise it as this member's SIP contact (redirect/proxy front ends send SUBSCRIBEs there); default PRESENCE_EVENT_MANAGER_SIP_PORT or none",
    )
    .option('--sip-host <addr>', 'address the embedded SIP front end listens on (default PRESENCE_EVENT_MANAGER_SIP_HOST or 127.0.0.1)')
    .option(
      '--sip-tls-port <port>',
      "with --sip-port: the embedded front end also takes SIP over TLS on this port (certificate and key from PRESENCE_SIP_TLS_CERT_FILE/KEY_FILE), advertised as the member's sips: contact, where redirect front ends send watchers that came over TLS; default PRESENCE_EVENT_MANAGER_SIP_TLS_PORT or none",
    )
    .option(
      '--advertised-host <host>',
      'host put in the advertised SIP contact and member API URL when the listening address is not reachable as such (default PRESENCE_EVENT_MANAGER_ADVERTISED_HOST)',
    )
    .option('--http-url <url>', 'HTTP base URL to advertise in the member reports (default: the --api-port API)')
    .option(
      '--api-port <port>',
      "serve the member's own HTTP API on this port: GET /subscribers/{key} (presence, publications, watcher dialogs; scope subscribers:read) and /stats; advertised in the member reports, so presence watchers and locate ask the owner; default PRESENCE_EVENT_MANAGER_API_PORT or none",
    )
    .option('--api-host <addr>', 'address the member API listens on (default PRESENCE_EVENT_MANAGER_API_HOST or 127.0.0.1)')
    .option(
      '--call-handling-port <port>',
      "run the call-handling SIP redirect server (UDP+TCP) inside this member: INVITEs and MESSAGEs to the subscribers it owns are decided from its store without an HTTP hop, the others asked of their owner's member API (as `run call-handling` does); default PRESENCE_EVENT_MANAGER_CALL_HANDLING_PORT or none",
    )
    .option('--call-handling-host <addr>', 'address that redirect server listens on (default PRESENCE_EVENT_MANAGER_CALL_HANDLING_HOST or 127.0.0.1)');
  addRedirectOptions(eventManager, 'with --call-handling-port: ')
    .option(
      '--capacity <eps>',
      'events per second this member can take, reported for load-based assignment (0: unknown; default PRESENCE_EVENT_MANAGER_CAPACITY or 0)',
    )
    .option('--no-sip-directory', 'embedded SIP front end: key presentities by their URI only, without the subscriber directory')
    .option(
      '--handoff <mode>',
      "watchers' dialogs when partitions move: transparent (they move along unnoticed) or resubscribe (NOTIFY terminated;reason=deactivated, the watcher re-subscribes); default PRESENCE_HANDOFF or transparent",
    )
    .option(
      '--assignor <name>',
      'broker-side (KIP-848) assignor: range (co-partitioned, by count), uniform (by count, comparison only: splits co-partitioned topics) or load (co-partitioned, by reported load; infra/assignor); default PRESENCE_ASSIGNOR or range',
    )
    .option(
      '--max-outage-s <seconds>',
      'stop with an error (exit 1) after batches kept failing this long on a registry/database/broker outage, instead of retrying on; nothing is discarded; 0: no limit; default PRESENCE_MAX_OUTAGE_S or 0',
    )
    .action(
      async (
        opts: {
          memberId?: string;
          memberIndex: string;
          maxOutageS?: string;
          static?: boolean;
          dynamic?: boolean;
          protocol: string;
          statsInterval: string;
          handoff?: string;
          assignor?: string;
          adminPort?: string;
          adminHost?: string;
          apiPort?: string;
          apiHost: string;
          callHandlingPort?: string;
          callHandlingHost: string;
        } & MembershipFlags &
          RedirectFlags,
      ) => {
        // --static on the command line wins over PRESENCE_EVENT_MANAGER_DYNAMIC=true, as a flag wins over any setting.
        if (opts.static) opts.dynamic = false;
        if (opts.protocol !== 'classic' && opts.protocol !== 'consumer') throw new Error(`--protocol must be classic or consumer, not ${opts.protocol}`);
        const memberId = memberIdOf('event-manager', opts.memberId, opts.memberIndex);
        const membership = membershipOptions(opts);
        const sipPort = sipPortOf('--sip-port', opts.sipPort);
        const sipTlsPort = sipPortOf('--sip-tls-port', opts.sipTlsPort);
        if (sipTlsPort !== undefined && sipPort === undefined) throw new Error('--sip-tls-port needs --sip-port: TLS is a listener of the embedded front end');
        // Refused before anything starts, as `run call-handling` refuses it.
        const answers = redirectOptionsOf(opts);
        const handoff = opts.handoff === undefined ? undefined : parseHandoffMode(opts.handoff, '--handoff');
        const assignor = opts.assignor === undefined ? undefined : parseGroupAssignor(opts.assignor, '--assignor');
        if (opts.maxOutageS !== undefined && !/^\d+$/.test(opts.maxOutageS))
          throw new Error(`--max-outage-s must be a whole number of seconds >= 0, not ${opts.maxOutageS}`);
        const s = loadSettings();
        // Certificate files read (and a missing one refused) before anything starts.
        const sipTls = sipTlsPort === undefined ? undefined : memberTls(s, sipTlsPort);
        const withRegEvent = regEventConfigured(s);
        say.start();
        say.fields({ memberId });
        // Up before Kafka is reached: /readyz says "starting" meanwhile, and why.
        const state: { em?: EventManager; sip?: MemberFrontEnd; failed?: string } = {};
        const metrics = new MetricsRegistry();
        const admin = await startAdminFor(s, 'eventManager', opts, {
          metrics,
          // With --sip-port the member is also a SIP edge that redirect/proxy front ends send SUBSCRIBEs to: it is ready when both are.
          ready: () => memberReadiness(state.em, sipPort === undefined ? undefined : { frontEnd: state.sip?.frontEnd }),
          live: () => (state.failed ? { ok: false, reason: state.failed } : { ok: true }),
          log: say,
        });
        // The API listens before the member joins, so its URL is in the member's first report.
        const apiPort = port('--api-port', opts.apiPort);
        const api =
          apiPort === undefined
            ? undefined
            : await startMemberApi(s, {
                memberId,
                port: apiPort,
                host: opts.apiHost,
                ...(opts.advertisedHost ? { advertisedHost: opts.advertisedHost } : {}),
                ...(s.http.tokensFile ? { tokens: BearerTokens.load(s.http.tokensFile) } : {}),
              });
        if (api) {
          membership.httpUrl ??= api.url;
          say(`member API on ${api.url} (GET /subscribers/{key}, /stats)`);
        }
        const sipDirectory = sipPort !== undefined && opts.sipDirectory ? new SubscriberDirectory(s.database.url) : undefined;
        await sipDirectory?.migrate();
        // The member's own SIP contact runs beside it, not inside it: the event
        // manager only advertises the URI in its reports.
        let sip: MemberFrontEnd | undefined;
        if (sipPort !== undefined) {
          sip = await startMemberFrontEnd(s, {
            memberId,
            port: sipPort,
            host: opts.sipHost,
            ...(opts.advertisedHost ? { advertisedHost: opts.advertisedHost } : {}),
            ...(sipDirectory ? { directory: sipDirectory } : {}),
            ...(sipTls ? { tls: sipTls } : {}),
            log: say,
          });
          state.sip = sip;
        }
        const em = await startEventManager(s, {
          memberId,
          membership: { ...membership, ...(sip ? { sipContact: sip.contact } : {}), ...(sip?.sipsContact ? { sipsContact: sip.sipsContact } : {}) },
          handoff,
          assignor,
          ...(opts.maxOutageS !== undefined ? { maxOutageMs: Number(opts.maxOutageS) * 1000 } : {}),
          instanceId: opts.dynamic ? undefined : memberId,
          protocol: opts.protocol,
          log: say,
        }).catch(async (err: unknown) => {
          await sip?.frontEnd.stop();
          await admin?.close();
          await api?.close();
          throw err;
        });
        api?.serve(em);
        state.em = em;
        const callHandling = await startMemberCallHandling(s, memberId, em, opts, answers).catch(async (err: unknown) => {
          await em.stop();
          await sip?.frontEnd.stop();
          await api?.close();
          await admin?.close();
          throw err;
        });
        registerEventManagerMetrics(metrics, em, s.kafka.brokers);
        // The in-member redirect server: the series `run call-handling` has, on the member's admin port.
        if (callHandling)
          registerCallHandlingMetrics(
            metrics,
            () => callHandling.server,
            () => ({ ok: true }),
            () => callHandling.decisions.counts,
          );
        // The member's own front end is a SIP edge like any other: the same presence_sip_* series, on the member's admin port.
        if (sip) registerSipFrontEndMetrics(metrics, sip.frontEnd);
        em.done().catch((err: Error) => (state.failed = `the event manager stopped: ${err.message}`));
        say(`event manager ${memberId}${opts.dynamic ? '' : ' (static member)'} running against ${s.kafka.brokers}`);
        // Pi: the reg dialogs of the IMS subscribers this member owns, moving with their partitions.
        let regFailed: (err: Error) => void = () => {};
        const regFailure = new Promise<never>((_, reject) => (regFailed = reject));
        regFailure.catch(() => undefined);
        const regDirectory = withRegEvent ? new SubscriberDirectory(s.database.url) : undefined;
        let regEvent: MemberRegEvent | undefined;
        if (regDirectory) {
          try {
            await regDirectory.migrate();
            regEvent = await startMemberRegEvent(s, {
              memberId,
              owned: () => em.processor.assignments(),
              directory: regDirectory,
              failed: (err) => {
                // /livez says why before the member has stopped.
                state.failed = `the reg-event agent cannot publish: ${err.message}`;
                regFailed(new Error(state.failed, { cause: err }));
              },
              log: say,
            });
          } catch (err) {
            await em.stop();
            await sip?.frontEnd.stop();
            await api?.close();
            await regDirectory.close();
            await admin?.close();
            throw err;
          }
        }
        const timer = setInterval(
          () => {
            const st = em.stats;
            const ps = em.processor.stats;
            say(
              `partitions ${em.processor.ctx.partitions().length}, records ${ps.records} (signals ${st.signals}, subscribes ${st.subscribes}, reports ${st.reports}, publishes ${st.publishes}), ` +
                `presence changes ${st.presenceChanges}, notifies ${st.notifies}, timers ${st.timersFired}, dead letters ${st.deadLetters}, ` +
                `transactions ${ps.transactions}, aborts ${ps.aborts}, restores ${ps.restores}` +
                `${regEvent ? `, reg dialogs ${regEvent.agent.subscribedKeys.length}/${regEvent.provisioned}` : ''}${ps.lastError ? `, last error: ${ps.lastError}` : ''}`,
            );
          },
          Number(opts.statsInterval) * 1000,
        );
        const { ended, failure } = await untilStopped(Promise.race([em.done(), regFailure]));
        clearInterval(timer);
        say(`stopping (${ended})`);
        // Our reg dialogs end before the partitions move, so the next owner's are the only ones.
        await regEvent?.stop();
        await regDirectory?.close();
        // Stop taking SUBSCRIBEs and calls before the member leaves the group.
        await sip?.frontEnd.stop();
        await callHandling?.stop();
        await em.stop();
        await api?.close();
        await sipDirectory?.close();
        await admin?.close();
        if (failure) throw failure;
      },
    );

  const locator = run.command('locator');
  addAdminOptions(locator, 'locator');
  flagsFromSettings(locator, (s) => ({ port: s.roles.locator.port, host: s.roles.locator.host }));
  locator
    .description('the coordinator HTTP API: GET /locate/{msisdn|imsi|aor} (key, partition, owning event manager, presence) and GET /healthz')
    .option('--port <port>', 'HTTP port (default PRESENCE_LOCATOR_PORT or 8090)')
    .option('--host <host>', 'address to listen on (default PRESENCE_LOCATOR_HOST or 127.0.0.1)')
    .action(async (opts: { port: string; host: string; adminPort?: string; adminHost?: string }) => {
      const s = loadSettings();
      sayLocator.start();
      const metrics = new MetricsRegistry();
      const stats = new HttpStats();
      let listening = false;
      const ready = locatorReadiness(s.kafka.brokers, () => listening);
      registerLocatorMetrics(metrics, stats, ready);
      const admin = await startAdminFor(s, 'locator', opts, { metrics, ready, log: sayLocator });
      const directory = new SubscriberDirectory(s.database.url);
      try {
        await directory.migrate();
        const tokens = s.http.tokensFile ? BearerTokens.load(s.http.tokensFile) : undefined;
        const server = await startHttpApi(s, Number(opts.port), opts.host, directory, tokens, stats);
        listening = true;
        // --port 0 picks a free port: log the one taken.
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : Number(opts.port);
        sayLocator(`locator listening on http://${opts.host}:${bound}/locate/{identity}`);
        sayLocator(`stopping (${await untilSignal()})`);
        await new Promise((r) => server.close(r));
      } finally {
        await directory.close();
        await admin?.close();
      }
    });
}
