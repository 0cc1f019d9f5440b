import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { ADMIN_PORT_ENV, type AdminRole } from './adminPort.ts';

const roles = Object.keys(ADMIN_PORT_ENV) as AdminRole[];

describe("every role's admin port setting", () => {
  it('is read from its environment variable (the event service had a flag only, so its pods listened on loopback)', () => {
    expect(roles).toContain('eventService');
    for (const [i, role] of roles.entries()) {
      const s = loadSettings({ PRESENCE_CONFIG: undefined, [ADMIN_PORT_ENV[role]]: String(9400 + i) } as NodeJS.ProcessEnv);
      expect(s.admin[`${role}Port`], ADMIN_PORT_ENV[role]).toBe(9400 + i);
    }
  });

  it('is read from the config file as admin.<role>Port, and off when neither is given', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-admin-'));
    const file = path.join(dir, 'presence.config.json');
    writeFileSync(file, JSON.stringify({ admin: Object.fromEntries(roles.map((r, i) => [`${r}Port`, 9500 + i])) }));
    const s = loadSettings({ PRESENCE_CONFIG: file } as NodeJS.ProcessEnv);
    for (const [i, role] of roles.entries()) expect(s.admin[`${role}Port`], role).toBe(9500 + i);
    const off = loadSettings({ PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv);
    for (const role of roles) expect(off.admin[`${role}Port`], role).toBeUndefined();
  });
});
