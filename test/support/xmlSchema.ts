// XML Schema checks of our documents with libxml2's xmllint (Debian
// libxml2-utils): the RFCs' own XSDs are the oracle. Tests skip, saying so,
// where xmllint is not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_XMLLINT = spawnSync('xmllint', ['--version']).status === 0;

/** xmllint's verdict on `xml` against the schema file `xsd`: ok, and what it printed. */
export function validateAgainstSchema(xsd: string, xml: string): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'xml-schema-'));
  try {
    const file = join(dir, 'doc.xml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
