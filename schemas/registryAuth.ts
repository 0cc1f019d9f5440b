// HTTP basic auth for the schema registry (registry.username / password in
// config/settings.ts), shared by the Avro client and raw fetch calls.
import { loadSettings } from '../config/settings.ts';

export interface RegistryAuth {
  username: string;
  password: string;
}

/** The process's registry credentials, or undefined when none are configured. */
export function registryAuth(): RegistryAuth | undefined {
  const r = loadSettings().registry;
  if (r.username === undefined) return undefined;
  if (r.password === undefined)
    throw new Error('registry.username is set but no registry password (PRESENCE_REGISTRY_PASSWORD or registry.password: { "file": PATH })');
  return { username: r.username, password: r.password };
}

/** Headers for a raw fetch to the registry. */
export function registryHeaders(auth: RegistryAuth | undefined = registryAuth()): Record<string, string> {
  return auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
}
