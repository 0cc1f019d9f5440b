#!/usr/bin/env node
// The `presence` command. TypeScript sources run through tsx's loader, so
// there is no build step between a clone and a working CLI.
import { register } from 'tsx/esm/api';

register();
// `presence decode --json FILE | head` closes stdout early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../cli/main.ts');
await main(process.argv);
