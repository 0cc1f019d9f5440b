// What `presence config show` and `presence config example` print: every
// setting with its effective value and where it came from (env, config file or
// default), secrets masked; and a config file holding every key at its default.
import { explainSettings, type Settings, type SettingSource } from './settings.ts';
import { masked, maskedUrl } from './secrets.ts';

export interface SettingRow {
  env: string;
  key: string;
  from: SettingSource['from'];
  /** The value in force, as the settings hold it (secrets masked). */
  value: unknown;
}

/** Config-file keys the loaded settings keep under another path (the file's keys are the documented ones). */
const SETTINGS_PATH: Record<string, string> = {
  'http.maxHeaderBytes': 'http.limits.maxHeaderBytes',
  'http.headersTimeoutMs': 'http.limits.headersTimeoutMs',
  'http.requestTimeoutMs': 'http.limits.requestTimeoutMs',
  'http.tlsCert': 'http.limits.tlsCertFile',
  'http.tlsKey': 'http.limits.tlsKeyFile',
  'http.tlsKeyPassphrase': 'http.limits.tlsKeyPassphrase',
  'http.tlsClientCa': 'http.limits.tlsClientCaFile',
};

/** The value in force for a setting, read from the loaded settings. */
function effective(settings: Settings, src: SettingSource): unknown {
  let cur: unknown = settings;
  for (const part of (SETTINGS_PATH[src.key] ?? src.key).split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function shown(value: unknown, src: SettingSource): unknown {
  // A URL may carry a password (the database's is merged into its URL).
  if (!src.secret) return typeof value === 'string' ? maskedUrl(value) : value;
  // A secret kept inside another setting (PRESENCE_DATABASE_PASSWORD in the URL) is still set: masked, not "(unset)".
  if (value === undefined) return src.from === 'default' ? undefined : '****';
  return typeof value === 'string' ? masked(value) : '****';
}

export function settingRows(env: NodeJS.ProcessEnv = process.env): { rows: SettingRow[]; configFile: string | undefined } {
  const { settings, sources, configFile } = explainSettings(env);
  return {
    rows: sources.map((src) => ({ env: src.env, key: src.key, from: src.from, value: shown(effective(settings, src), src) })),
    configFile,
  };
}

export function formatRows(rows: SettingRow[]): string[] {
  const w = Math.max(...rows.map((r) => r.env.length));
  const k = Math.max(...rows.map((r) => r.key.length));
  return rows.map((r) => `${r.env.padEnd(w)}  ${r.key.padEnd(k)}  ${r.from.padEnd(7)}  ${r.value === undefined ? '(unset)' : JSON.stringify(r.value)}`);
}

/**
 * A config file with every key at its default (unset ones null): the documented
 * shape of presence.config.json. Read with an empty environment and no file, so
 * it does not depend on the machine it is made on.
 */
/** Settings whose default is derived from others (a local-stack address, a directory under the home): left null, so copying the example changes nothing. */
const DERIVED = new Set(['kafka.brokers', 'registry.url', 'connect.url', 'eventManager.stateDir']);

export function exampleConfig(): Record<string, unknown> {
  const { settings, sources } = explainSettings({ PRESENCE_CONFIG: undefined, PRESENCE_HOME: '.presence' });
  const out: Record<string, unknown> = {};
  for (const src of sources) {
    const parts = src.key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    const v = src.secret || DERIVED.has(src.key) ? null : src.from === 'default' ? effective(settings, src) : src.raw;
    node[parts.at(-1)!] = v === undefined ? null : v;
  }
  return out;
}
