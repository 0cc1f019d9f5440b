import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../config/settings.ts';
import { createTestCertificateAuthority } from '../infra/local/testCertificates.ts';
import { memberTls } from './memberFrontEnd.ts';

describe('memberTls (run event-manager --sip-tls-port)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'member-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a TLS port without the SIP certificate settings, naming them', () => {
    const s = loadSettings({ PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv);
    expect(() => memberTls(s, 5061)).toThrow(/--sip-tls-port .*PRESENCE_SIP_TLS_CERT_FILE and PRESENCE_SIP_TLS_KEY_FILE/);
  });

  it("takes the SIP certificate settings' files on the member's own port", async () => {
    const pair = await (await createTestCertificateAuthority(dir)).issue('member', ['127.0.0.1']);
    const s = loadSettings({
      PRESENCE_CONFIG: undefined,
      PRESENCE_SIP_TLS_CERT_FILE: pair.certFile,
      PRESENCE_SIP_TLS_KEY_FILE: pair.keyFile,
    } as NodeJS.ProcessEnv);
    const tls = memberTls(s, 0);
    expect(tls.port).toBe(0);
    expect(tls.cert).toEqual(readFileSync(pair.certFile));
    expect(tls.key?.toString()).toContain('PRIVATE KEY');
  });
});
