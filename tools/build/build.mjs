// `npm run build`: the production code compiled to dist/ (tsconfig.build.json),
// then the files that code reads beside itself (SQL schemas, Avro schemas,
// static web pages) copied next to it at the same relative paths, since the
// code finds them through import.meta.url. dist/ is rebuilt from scratch so no
// file of a removed source lingers in it.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(root, 'dist');
const ASSETS = new Set(['.sql', '.avsc', '.html', '.css', '.svg', '.js']);
const SKIP = new Set(['node_modules', 'target']);

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

// The folders tsconfig.build.json compiles: one list, not two (it allows // comments).
const folders = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')).include;
let copied = 0;
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const from = path.join(dir, name);
    if (statSync(from).isDirectory()) {
      if (!SKIP.has(name)) copyAssets(from);
    } else if (ASSETS.has(path.extname(name))) {
      cpSync(from, path.join(dist, path.relative(root, from)));
      copied++;
    }
  }
}
for (const folder of folders) copyAssets(path.join(root, folder));
console.log(`build: dist/ compiled and ${copied} asset files copied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
