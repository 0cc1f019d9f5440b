// `npm run fixtures [dir]`: regenerates the committed test captures
// (test/fixtures by default). Run it when a generator change is meant to
// change them; tools/generator/fixtures.test.ts fails until you do.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, writeFixture } from './fixtures.ts';

const dir = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures'));
mkdirSync(dir, { recursive: true });
for (const f of FIXTURES) {
  const out = path.join(dir, f.file);
  const packets = writeFixture(f, out);
  process.stdout.write(`${path.relative(process.cwd(), out)}: ${packets} packets, ${statSync(out).size} bytes\n`);
}
