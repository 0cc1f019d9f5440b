// Secrets (Kafka and registry passwords, key passphrases) never sit in the
// config file itself: a secret setting is either an environment variable
// (PRESENCE_KAFKA_PASSWORD, …) or, in the file, a reference
// `{ "file": "/run/secrets/kafka-password" }` or `{ "env": "NAME" }`.
// A literal string in the file is refused, so a committed config cannot
// carry one by accident.
import { readFileSync } from 'node:fs';

/** Resolves one secret setting: `fromEnv` (already an env value) wins, then the file's reference. */
export function resolveSecret(name: string, fromEnv: string | undefined, fromFile: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (fromFile === undefined || fromFile === null || fromFile === '') return undefined;
  if (typeof fromFile === 'string')
    throw new Error(`setting ${name} is a secret: the config file must reference it ({ "file": PATH } or { "env": NAME }), not hold it`);
  if (typeof fromFile !== 'object') throw new Error(`setting ${name} must be { "file": PATH } or { "env": NAME }, got ${JSON.stringify(fromFile)}`);
  const ref = fromFile as Record<string, unknown>;
  if (typeof ref.file === 'string') {
    try {
      // A trailing newline is what `echo secret > file` leaves; it is never part of the secret.
      return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`setting ${name}: cannot read its file ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  if (typeof ref.env === 'string') {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new Error(`setting ${name} references environment variable ${ref.env}, which is not set`);
    return v;
  }
  throw new Error(`setting ${name} must be { "file": PATH } or { "env": NAME }, got keys ${Object.keys(ref).join(', ') || '(none)'}`);
}

/** What output shows in place of a secret. */
export function masked(secret: string | undefined): string {
  return secret === undefined ? '(unset)' : '****';
}

/** A URL with the password of its user info (and a `password=` query parameter) masked (postgres://u:****@host/db); anything else as it is. */
export function maskedUrl(value: string): string {
  // Only scheme://user:password@…; a plain host:port has no user info. The password runs to the last @ before
  // the query (it may hold an unencoded / or @); an @ in the query is not user info.
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:)[^?#\s]*@/i, '$1****@').replace(/([?&]password=)[^&#\s]*/gi, '$1****');
}

/** A command line or message with every `password=VALUE` (JVM -D options, Kafka's --add-scram) masked. */
export function maskedPasswords(text: string): string {
  // To the end of the argument, or of a bracketed --add-scram entry.
  return text.replace(/(password=)[^\]\s]+/gi, '$1****');
}
