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

/** command path → flag (commander key) → its environment variable. */
const FLAGS: Record<string, Record<string, string>> = {
  'run event-manager': {
    memberId: 'PRESENCE_EVENT_MANAGER_MEMBER_ID',
    sipPort: 'PRESENCE_EVENT_MANAGER_SIP_PORT',
    sipHost: 'PRESENCE_EVENT_MANAGER_SIP_HOST',
    apiPort: 'PRESENCE_EVENT_MANAGER_API_PORT',
    apiHost: 'PRESENCE_EVENT_MANAGER_API_HOST',
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
  'run group-presence-api': {
    port: 'PRESENCE_GROUP_PRESENCE_API_PORT',
    host: 'PRESENCE_GROUP_PRESENCE_API_HOST',
    adminPort: 'PRESENCE_GROUP_PRESENCE_API_ADMIN_PORT',
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
