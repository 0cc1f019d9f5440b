// `presence tokens create|revoke|list`: the bearer tokens of the HTTP APIs
// (protocols/http/bearerTokens.ts). The file holds hashes only; a new token
// is printed once, on stdout, and never stored or logged.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';

function tokensFile(given: string | undefined): string {
  const file = given ?? loadSettings().http.tokensFile;
  if (!file) throw new Error('name the tokens file: --file <path> or PRESENCE_HTTP_TOKENS_FILE');
  return file;
}

export function registerTokensCommand(program: Command): void {
  const tokens = program
    .command('tokens')
    .description(
      'bearer tokens of the HTTP APIs (scopes: groups:read, groups:manage, presence:read, presence:any, locate, console:manage); the APIs require them once PRESENCE_HTTP_TOKENS_FILE is set',
    );
  tokens
    .command('create')
    .description('adds a client and prints its new token once (only its SHA-256 is kept)')
    .requiredOption('--client <name>', 'who holds the token (one word)')
    .requiredOption('--scopes <list>', 'comma-separated scopes, e.g. groups:read,groups:manage')
    .option('--identity <uri>', 'the user this client acts as (e.g. a watcher app): the group presence API answers as this requester')
    .option('--file <path>', 'tokens file (default PRESENCE_HTTP_TOKENS_FILE)')
    .action((opts: { client: string; scopes: string; identity?: string; file?: string }) => {
      const file = tokensFile(opts.file);
      const existing = existsSync(file) ? BearerTokens.parse(readFileSync(file, 'utf8')) : undefined;
      const { token, line } = newToken(
        opts.client,
        opts.scopes
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
        opts.identity,
      );
      appendFileSync(file, `${line}\n`, { mode: 0o600 });
      process.stderr.write(`client ${opts.client} added to ${file} (${(existing?.size ?? 0) + 1} tokens); the token, shown only now:\n`);
      process.stdout.write(`${token}\n`);
    });
  tokens
    .command('revoke')
    .description('removes every token of a client (running APIs read the file at start: restart them)')
    .requiredOption('--client <name>', 'the client whose tokens go')
    .option('--file <path>', 'tokens file (default PRESENCE_HTTP_TOKENS_FILE)')
    .action((opts: { client: string; file?: string }) => {
      const file = tokensFile(opts.file);
      const lines = readFileSync(file, 'utf8').split('\n');
      const kept = lines.filter((l) => l.trim().split(/\s+/)[0] !== opts.client || l.trim().startsWith('#'));
      const removed = lines.length - kept.length;
      if (removed === 0) throw new Error(`no token of client ${opts.client} in ${file}`);
      writeFileSync(file, kept.join('\n'), { mode: 0o600 });
      process.stderr.write(`revoked ${removed} token(s) of ${opts.client} in ${file}\n`);
    });
}
