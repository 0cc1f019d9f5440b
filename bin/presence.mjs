#!/usr/bin/env node
// The `presence` command. A checkout runs the TypeScript sources through tsx's
// loader, so there is no build step between an edit and a run; an installed
// package or image (no sources, `npm run build`'s dist/ only) runs the compiled
// JavaScript without tsx. PRESENCE_RUN=built|sources chooses explicitly.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist/cli/main.js');
const mode = process.env.PRESENCE_RUN ?? (existsSync(join(root, 'cli/main.ts')) ? 'sources' : 'built');
if (mode !== 'built' && mode !== 'sources') {
  console.error(`presence: PRESENCE_RUN must be built or sources, not ${JSON.stringify(mode)}`);
  process.exit(2);
}
if (mode === 'built' && !existsSync(built)) {
  console.error(`presence: ${built} is missing: run \`npm run build\` first (or PRESENCE_RUN=sources in a checkout)`);
  process.exit(2);
}
// `presence decode --json FILE | head` closes stdout early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
let main;
if (mode === 'built') {
  ({ main } = await import(built));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
await main(process.argv);
