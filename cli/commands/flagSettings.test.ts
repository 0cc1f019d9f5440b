// Issue 14 item 4: the ports, hosts and member ids of every long-running command are
// also environment variables and config-file keys; the flag wins; `config show` says
// where each came from. Runs the real CLI with each action swapped for a recorder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../main.ts';
import { settingRows } from '../../config/settingsReport.ts';
import { loadSettings } from '../../config/settings.ts';
import { flagSettingsOf } from './flagSettings.ts';

/** command path → flag (commander key) → its environment variable. */
const FLAGS: Record<string, Record<string, string>> = {
  'run event-manager': {
    memberId: 'PRESENCE_EVENT_MANAGER_MEMBER_ID',
    sipPort: 'PRESENCE_EVENT_MANAGER_SIP_PORT',
    sipHost: 'PRESENCE_EVENT_MANAGER_SIP_HOST',
    sipTlsPort: 'PRESENCE_EVENT_MANAGER_SIP_TLS_PORT',
    apiPort: 'PRESENCE_EVENT_MANAGER_API_PORT',
    apiHost: 'PRESENCE_EVENT_MANAGER_API_HOST',
    callHandlingPort: 'PRESENCE_EVENT_MANAGER_CALL_HANDLING_PORT',
    callHandlingHost: 'PRESENCE_EVENT_MANAGER_CALL_HANDLING_HOST',
    advertisedHost: 'PRESENCE_EVENT_MANAGER_ADVERTISED_HOST',
    capacity: 'PRESENCE_EVENT_MANAGER_CAPACITY',
    adminPort: 'PRESENCE_EVENT_MANAGER_ADMIN_PORT',
  },
  'run sip-front': {
    port: 'PRESENCE_SIP_FRONT_PORT',
    host: 'PRESENCE_SIP_FRONT_HOST',
    advertisedHost: 'PRESENCE_SIP_FRONT_ADVERTISED_HOST',
    adminPort: 'PRESENCE_SIP_FRONT_ADMIN_PORT',
  },
  'run notify-sink': {
    port: 'PRESENCE_NOTIFY_SINK_PORT',
    host: 'PRESENCE_NOTIFY_SINK_HOST',
    memberId: 'PRESENCE_NOTIFY_SINK_MEMBER_ID',
    advertise: 'PRESENCE_NOTIFY_SINK_ADVERTISE',
    adminPort: 'PRESENCE_NOTIFY_SINK_ADMIN_PORT',
  },
  'run group-presence': { memberId: 'PRESENCE_GROUP_PRESENCE_MEMBER_ID', adminPort: 'PRESENCE_GROUP_PRESENCE_ADMIN_PORT' },
  'run group-service': { port: 'PRESENCE_GROUP_SERVICE_PORT', host: 'PRESENCE_GROUP_SERVICE_HOST', adminPort: 'PRESENCE_GROUP_SERVICE_ADMIN_PORT' },
  'run availability-service': {
    port: 'PRESENCE_AVAILABILITY_SERVICE_PORT',
    host: 'PRESENCE_AVAILABILITY_SERVICE_HOST',
    adminPort: 'PRESENCE_AVAILABILITY_SERVICE_ADMIN_PORT',
  },
  'run group-presence-api': {
    port: 'PRESENCE_GROUP_PRESENCE_API_PORT',
    host: 'PRESENCE_GROUP_PRESENCE_API_HOST',
    adminPort: 'PRESENCE_GROUP_PRESENCE_API_ADMIN_PORT',
  },
  'run call-handling': {
    port: 'PRESENCE_CALL_HANDLING_PORT',
    host: 'PRESENCE_CALL_HANDLING_HOST',
    voicemail: 'PRESENCE_CALL_HANDLING_VOICEMAIL',
    tlsPort: 'PRESENCE_CALL_HANDLING_TLS_PORT',
    adminPort: 'PRESENCE_CALL_HANDLING_ADMIN_PORT',
  },
  'run locator': { port: 'PRESENCE_LOCATOR_PORT', host: 'PRESENCE_LOCATOR_HOST', adminPort: 'PRESENCE_LOCATOR_ADMIN_PORT' },
  'run console': { port: 'PRESENCE_CONSOLE_PORT', host: 'PRESENCE_CONSOLE_HOST', adminPort: 'PRESENCE_CONSOLE_ADMIN_PORT' },
  'tap hep': { port: 'PRESENCE_HEP_TAP_PORT', host: 'PRESENCE_HEP_TAP_HOST', adminPort: 'PRESENCE_HEP_TAP_ADMIN_PORT' },
};

/** Admin ports are read by startAdminFor from the settings, not filled into the flag. */
const FROM_SETTINGS_AT_START = new Set(['adminPort']);

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** The options the command's action would get for `args`, without running it. */
async function optionsOf(commandPath: string, args: string[] = []): Promise<Record<string, unknown>> {
  const program = buildProgram().exitOverride();
  let cmd: Command = program;
  for (const name of commandPath.split(' ')) cmd = cmd.commands.find((c) => c.name() === name)!;
  let got: Record<string, unknown> = {};
  cmd.action((opts: Record<string, unknown>) => {
    got = opts;
  });
  await program.parseAsync(['node', 'presence', ...commandPath.split(' '), ...args]);
  return got;
}

const sample = (key: string) => (/port|capacity/i.test(key) ? '4711' : /host|advertise/i.test(key) ? '10.1.2.3' : 'member-x');

describe('every listening and identity flag is also a setting', () => {
  it('each flag exists on its command, and its variable is a setting that config show reports with its source', () => {
    const envs = Object.values(FLAGS).flatMap((f) => Object.values(f));
    const rows = settingRows(Object.fromEntries(envs.map((e) => [e, /PORT|CAPACITY/.test(e) ? '4711' : 'v'])) as NodeJS.ProcessEnv).rows;
    for (const env of envs)
      expect(
        rows.find((r) => r.env === env),
        env,
      ).toMatchObject({ from: 'env' });
    for (const [commandPath, flags] of Object.entries(FLAGS)) {
      let cmd: Command = buildProgram();
      for (const name of commandPath.split(' ')) cmd = cmd.commands.find((c) => c.name() === name)!;
      for (const key of Object.keys(flags))
        expect(
          cmd.options.some((o) => o.attributeName() === key),
          `${commandPath} ${key}`,
        ).toBe(true);
    }
  });

  it('a flag not given takes the environment variable; a flag given wins', async () => {
    for (const [commandPath, flags] of Object.entries(FLAGS))
      for (const [key, env] of Object.entries(flags)) {
        if (FROM_SETTINGS_AT_START.has(key)) continue;
        process.env[env] = sample(key);
        expect((await optionsOf(commandPath))[key], `${commandPath} ${key} from ${env}`).toBe(sample(key));
        const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        expect((await optionsOf(commandPath, [flag, /port|capacity/i.test(key) ? '4712' : 'given']))[key], `${commandPath} ${flag} over ${env}`).toBe(
          /port|capacity/i.test(key) ? '4712' : 'given',
        );
        delete process.env[env];
      }
  });

  it('reads the config file too, and keeps the defaults without either', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'presence-flags-')), 'presence.config.json');
    writeFileSync(file, JSON.stringify({ roles: { sipFront: { port: 5070 }, eventManager: { memberId: 'em-from-file' } } }));
    process.env.PRESENCE_CONFIG = file;
    expect((await optionsOf('run sip-front')).port).toBe('5070');
    expect((await optionsOf('run event-manager')).memberId).toBe('em-from-file');
    expect(settingRows().rows.find((r) => r.env === 'PRESENCE_SIP_FRONT_PORT')).toMatchObject({ from: 'file', value: 5070 });
    delete process.env.PRESENCE_CONFIG;
    const defaults = await optionsOf('run sip-front');
    expect([defaults.port, defaults.host]).toEqual(['5060', '127.0.0.1']);
    // No setting: the command's own default (a member id from the host name, no embedded front end).
    const em = await optionsOf('run event-manager');
    expect([em.memberId, em.sipPort, em.apiPort]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a port setting that is no port, naming the variable', async () => {
    process.env.PRESENCE_LOCATOR_PORT = 'eighty';
    await expect(optionsOf('run locator')).rejects.toThrow(/PRESENCE_LOCATOR_PORT/);
  });
});

/**
 * The tuning flags (issue 14 item 4, second part): a representative set across the roles —
 * numbers, an enum, a plain boolean switch, a negated switch, and flags backed by settings
 * that existed before (handoff, mode, udp size) — each proved from the environment and from
 * the config file, with the flag winning. [command, flag key, env, env value, config-file key, file value, flag args, flag value]
 */
const TUNING: Array<[string, string, string, string, string, unknown, string[], unknown]> = [
  ['run notify-sink', 't1Ms', 'PRESENCE_NOTIFY_SINK_T1_MS', '250', 'roles.notifySink.t1Ms', 300, ['--t1-ms', '700'], '700'],
  ['run notify-sink', 'maxAttempts', 'PRESENCE_NOTIFY_SINK_MAX_ATTEMPTS', '7', 'roles.notifySink.maxAttempts', 2, ['--max-attempts', '3'], '3'],
  ['run notify-sink', 'coalesce', 'PRESENCE_NOTIFY_SINK_COALESCE', 'true', 'roles.notifySink.coalesce', true, ['--coalesce'], true],
  ['run notify-sink', 'udpMaxBytes', 'PRESENCE_NOTIFY_UDP_MAX_BYTES', '1200', 'notifySink.udpMaxRequestBytes', 1100, ['--udp-max-bytes', '900'], '900'],
  ['run sip-front', 'minExpires', 'PRESENCE_SIP_FRONT_MIN_EXPIRES', '30', 'roles.sipFront.minExpires', 45, ['--min-expires', '90'], '90'],
  ['run sip-front', 'mode', 'PRESENCE_FRONT_END_MODE', 'redirect', 'frontEnd.mode', 'proxy', ['--mode', 'stateless'], 'stateless'],
  ['run sip-front', 'directory', 'PRESENCE_SIP_FRONT_DIRECTORY', 'false', 'roles.sipFront.directory', false, ['--no-directory'], false],
  [
    'run event-manager',
    'protocol',
    'PRESENCE_EVENT_MANAGER_PROTOCOL',
    'classic',
    'roles.eventManager.protocol',
    'classic',
    ['--protocol', 'consumer'],
    'consumer',
  ],
  // The in-member redirect server's answer flags read run call-handling's settings (one place for voicemail and identity trust).
  [
    'run event-manager',
    'voicemail',
    'PRESENCE_CALL_HANDLING_VOICEMAIL',
    'sip:vm@env.example',
    'roles.callHandling.voicemail',
    'sip:vm@file.example',
    ['--voicemail', 'sip:vm@flag.example'],
    'sip:vm@flag.example',
  ],
  [
    'run event-manager',
    'assertedIdentity',
    'PRESENCE_CALL_HANDLING_ASSERTED_IDENTITY',
    'true',
    'roles.callHandling.assertedIdentity',
    true,
    ['--no-asserted-identity'],
    false,
  ],
  ['run event-manager', 'handoff', 'PRESENCE_HANDOFF', 'resubscribe', 'eventManager.handoff', 'resubscribe', ['--handoff', 'transparent'], 'transparent'],
  ['run group-presence', 'fetchWaitMs', 'PRESENCE_GROUP_PRESENCE_FETCH_WAIT_MS', '20', 'roles.groupPresence.fetchWaitMs', 80, ['--fetch-wait-ms', '5'], '5'],
  ['run group-service', 'maxBody', 'PRESENCE_GROUP_SERVICE_MAX_BODY', '1024', 'roles.groupService.maxBody', 2048, ['--max-body', '4096'], '4096'],
  ['tap hep', 'statsInterval', 'PRESENCE_HEP_TAP_STATS_INTERVAL', '60', 'roles.hepTap.statsInterval', 30, ['--stats-interval', '5'], '5'],
  ['tap hep', 'tlsPort', 'PRESENCE_HEP_TLS_PORT', '19061', 'hep.tls.port', 19062, ['--tls-port', '19063'], '19063'],
  [
    'tap hep',
    'tlsClientCa',
    'PRESENCE_HEP_TLS_CLIENT_CA_FILE',
    '/etc/ca-env.pem',
    'hep.tls.clientCaFile',
    '/etc/ca-file.pem',
    ['--tls-client-ca', '/x.pem'],
    '/x.pem',
  ],
];

/** A config file holding `value` at the dotted `key`. */
function configWith(key: string, value: unknown): string {
  const root: Record<string, unknown> = {};
  let node = root;
  const parts = key.split('.');
  for (const p of parts.slice(0, -1)) node = (node[p] = {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'presence-tuning-')), 'presence.config.json');
  writeFileSync(file, JSON.stringify(root));
  return file;
}

describe('every tuning flag of a long-running command is also a setting', () => {
  it.each(TUNING)('%s %s: environment, config file, and the flag wins', async (commandPath, key, env, envValue, fileKey, fileValue, args, flagValue) => {
    const asOption = (v: unknown) => (typeof v === 'boolean' ? v : String(v));
    process.env[env] = envValue;
    expect((await optionsOf(commandPath))[key], `from ${env}`).toBe(asOption(envValue === 'true' ? true : envValue === 'false' ? false : envValue));
    expect((await optionsOf(commandPath, args))[key], `${args.join(' ')} over ${env}`).toBe(flagValue);
    delete process.env[env];
    process.env.PRESENCE_CONFIG = configWith(fileKey, fileValue);
    expect((await optionsOf(commandPath))[key], `from ${fileKey}`).toBe(asOption(fileValue));
    expect(settingRows().rows.find((r) => r.env === env)).toMatchObject({ key: fileKey, from: 'file', value: fileValue });
    expect((await optionsOf(commandPath, args))[key], `${args.join(' ')} over ${fileKey}`).toBe(flagValue);
  });

  it('without env or file a flag keeps the default it always had', async () => {
    const sink = await optionsOf('run notify-sink');
    expect([sink.t1Ms, sink.maxAttempts, sink.coalesce, sink.concurrency, sink.maxPollIntervalMs]).toEqual(['500', '4', false, '256', undefined]);
    const front = await optionsOf('run sip-front');
    expect([front.minExpires, front.maxExpires, front.directory, front.mode]).toEqual(['60', '7200', true, 'stateless']);
  });

  it('refuses a tuning setting of the wrong kind, naming it', async () => {
    process.env.PRESENCE_NOTIFY_SINK_COALESCE = 'maybe';
    await expect(optionsOf('run notify-sink')).rejects.toThrow(/PRESENCE_NOTIFY_SINK_COALESCE/);
  });
});

/**
 * Flags that stay flags only, each with why. Anything else on a long-running command
 * without a setting fails the walk below, so a new flag cannot skip the config surface.
 */
const FLAG_ONLY: Record<string, string> = {
  // Read by startAdminFor (adminPort.ts) from admin.* settings (PRESENCE_<ROLE>_ADMIN_PORT, PRESENCE_ADMIN_HOST) at start.
  adminPort: 'admin.<role>Port',
  adminHost: 'admin.host',
  // The flag side of roles.eventManager.dynamic (false by default): it only turns a dynamic setting back off.
  'run event-manager static': 'roles.eventManager.dynamic',
  // Only raises the log level to debug for one run: PRESENCE_LOG_LEVEL=debug is its setting.
  'run notify-sink verbose': 'log.level',
  // Names a file holding the key; the key itself is the secret hep.authKey (PRESENCE_HEP_AUTH_KEY or PRESENCE_HEP_AUTH_KEY_FILE).
  'tap hep authKeyFile': 'hep.authKey',
};

/** The long-running commands: every `presence run …` role and `tap hep`. */
function longRunning(): Array<[string, Command]> {
  const program = buildProgram();
  const sub = (name: string) => program.commands.find((c) => c.name() === name)!;
  return [...sub('run').commands.map((c): [string, Command] => [`run ${c.name()}`, c]), ['tap hep', sub('tap').commands.find((c) => c.name() === 'hep')!]];
}

describe('the walk over the long-running commands', () => {
  it('finds no flag without a setting, except the commented flag-only ones', () => {
    const settings = loadSettings({ PRESENCE_HOME: '.presence' });
    const commands = longRunning();
    expect(commands.map(([p]) => p)).toEqual(expect.arrayContaining(['run event-manager', 'run sip-front', 'run notify-sink', 'tap hep']));
    const missing: string[] = [];
    for (const [commandPath, cmd] of commands) {
      const backed = flagSettingsOf(cmd, settings) ?? {};
      for (const o of cmd.options) {
        const key = o.attributeName();
        if (key in backed || key in FLAG_ONLY || `${commandPath} ${key}` in FLAG_ONLY) continue;
        missing.push(`${commandPath} ${o.long}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("keeps each flag's own default equal to its setting's default (the help text stays true)", () => {
    const settings = loadSettings({ PRESENCE_HOME: '.presence' });
    const differing: string[] = [];
    for (const [commandPath, cmd] of longRunning()) {
      const backed = flagSettingsOf(cmd, settings) ?? {};
      for (const o of cmd.options) {
        const key = o.attributeName();
        if (o.defaultValue !== undefined && key in backed && String(backed[key]) !== String(o.defaultValue))
          differing.push(`${commandPath} ${o.long}: flag ${String(o.defaultValue)}, setting ${String(backed[key])}`);
      }
    }
    expect(differing).toEqual([]);
  });
});
