// `presence credentials set|remove|delegate|undelegate`: SIP digest credentials and
// publication delegates (subscriber/credentials/). The password is read from
// stdin or a file, never from argv (visible in ps and shell history), and
// only its HA1 hashes are stored.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { SipCredentials } from '../../subscriber/credentials/sipCredentials.ts';
import { identityKey, uriSubscriber } from '../../subscriber/identity/subscriberKey.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';

async function withStore<T>(f: (store: SipCredentials) => Promise<T>): Promise<T> {
  const store = new SipCredentials(loadSettings().database.url);
  try {
    await store.migrate();
    return await f(store);
  } finally {
    await store.close();
  }
}

async function readPassword(file: string | undefined): Promise<string> {
  if (file) return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A presentity or delegate URI as the subscriber key PUBLISH authorization compares. */
function keyOf(uri: string): string {
  const id = uriSubscriber(uri, numberingPlan(loadSettings()));
  if (!id) throw new Error(`${uri} names no subscriber (a sip: URI with a user, or a tel: number)`);
  return identityKey(id);
}

export function registerCredentialsCommand(program: Command): void {
  const cmd = program
    .command('credentials')
    .description('SIP digest credentials (HA1 hashes in PostgreSQL) and who may PUBLISH for whom; used when PRESENCE_SIP_AUTH=digest');
  cmd
    .command('set')
    .description('sets the password of a username in a realm (password on stdin, or --password-file)')
    .argument('<username>', 'the digest username (e.g. the private identity alice@ims.example.net)')
    .requiredOption('--identity <uri>', 'the public identity it authenticates as: the watcher of its SUBSCRIBEs, the presentity its PUBLISHes may name')
    .option('--realm <realm>', 'the realm (default PRESENCE_SIP_REALM)')
    .option('--password-file <path>', 'read the password from this file instead of stdin')
    .action(async (username: string, opts: { identity: string; realm?: string; passwordFile?: string }) => {
      if (!/^(sips?|tel):\S+$/.test(opts.identity)) throw new Error(`--identity ${opts.identity} is not a sip:, sips: or tel: URI`);
      const realm = opts.realm ?? loadSettings().frontEnd.auth.realm;
      const password = await readPassword(opts.passwordFile);
      await withStore((s) => s.set(username, realm, opts.identity, password));
      process.stderr.write(`credentials of ${username} in realm ${realm} set (authenticates as ${opts.identity})\n`);
    });
  cmd
    .command('remove')
    .argument('<username>')
    .option('--realm <realm>', 'the realm (default PRESENCE_SIP_REALM)')
    .action(async (username: string, opts: { realm?: string }) => {
      const realm = opts.realm ?? loadSettings().frontEnd.auth.realm;
      if (!(await withStore((s) => s.remove(username, realm)))) throw new Error(`no credentials of ${username} in realm ${realm}`);
      process.stderr.write(`credentials of ${username} in realm ${realm} removed\n`);
    });
  cmd
    .command('delegate')
    .description('lets <delegate> PUBLISH presence for <presentity> (RFC 3903 leaves this to local policy)')
    .argument('<presentity>', 'sip:/tel: URI of the presentity')
    .argument('<delegate>', 'sip:/tel: URI of the identity that may publish for it')
    .action(async (presentity: string, delegate: string) => {
      await withStore((s) => s.delegate(keyOf(presentity), keyOf(delegate)));
      process.stderr.write(`${delegate} may now PUBLISH for ${presentity}\n`);
    });
  cmd
    .command('undelegate')
    .description('takes back what delegate gave: <delegate> may no longer PUBLISH for <presentity>')
    .argument('<presentity>', 'sip:/tel: URI of the presentity')
    .argument('<delegate>', 'sip:/tel: URI of the identity that could publish for it')
    .action(async (presentity: string, delegate: string) => {
      if (!(await withStore((s) => s.undelegate(keyOf(presentity), keyOf(delegate))))) throw new Error(`${delegate} could not PUBLISH for ${presentity}`);
      process.stderr.write(`${delegate} may no longer PUBLISH for ${presentity}\n`);
    });
}
