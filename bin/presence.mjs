#!/usr/bin/env node
// The `presence` command. TypeScript sources run through tsx's loader, so
// there is no build step between a clone and a working CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
