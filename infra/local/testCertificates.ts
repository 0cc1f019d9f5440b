// A throwaway certificate authority and certificates signed by it, for local
// use and tests of SIP over TLS (`presence stack certs`). Made with the openssl
// CLI: EC P-256 keys, SHA-256, a CA valid for 30 days (a throwaway, not a PKI),
// leaf certificates with the subjectAltNames TLS clients check (RFC 5922 §7.1:
// the SIP domain or address in a SAN, not only the CN) and the extended key
// usages SIP needs (serverAuth: we are dialled; clientAuth: we present it as a
// client certificate). Nothing here is for production: a real deployment uses its
// operator's CA.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the openssl command is not installed (needed to make test certificates)', { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCertificateAuthority {
  readonly dir: string;
  /** The CA certificate: what peers are told to trust (PRESENCE_SIP_TLS_CLIENT_CA_FILE, PRESENCE_NOTIFY_TLS_CA_FILE). */
  readonly caFile: string;
  readonly caKeyFile: string;
  /** A certificate for `names` (DNS names and IP addresses), signed by this CA, usable as server and client certificate. */
  issue(name: string, names: readonly string[]): Promise<IssuedCertificate>;
}

/** subjectAltName value: IP:… for addresses, DNS:… for names. */
export function subjectAltName(names: readonly string[]): string {
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  return names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/** Makes a new CA in `dir` (created if missing; files overwritten) and returns it ready to issue certificates. */
export async function createTestCertificateAuthority(dir: string, commonName = 'presence test CA'): Promise<TestCertificateAuthority> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKeyFile = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKeyFile]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKeyFile,
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caFile,
  ]);
  return {
    dir,
    caFile,
    caKeyFile,
    async issue(name, names) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate name ${JSON.stringify(name)}: letters, digits, . _ - only (it names files)`);
      const keyFile = path.join(dir, `${name}.key`);
      const csrFile = path.join(dir, `${name}.csr`);
      const extFile = path.join(dir, `${name}.ext`);
      const certFile = path.join(dir, `${name}.crt`);
      await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
      await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${names[0] ?? name}`, '-out', csrFile]);
      await writeFile(
        extFile,
        `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${subjectAltName(names)}\n`,
      );
      await openssl([
        'x509',
        '-req',
        '-in',
        csrFile,
        '-CA',
        caFile,
        '-CAkey',
        caKeyFile,
        '-CAcreateserial',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        extFile,
        '-out',
        certFile,
      ]);
      return { certFile, keyFile };
    },
  };
}

/** `presence stack certs`: a CA and one certificate for the local front end, sink and test watchers, in `dir`. */
export async function writeLocalCertificates(
  dir: string,
  names: readonly string[] = ['localhost', '127.0.0.1', '::1'],
): Promise<{ ca: string; cert: IssuedCertificate }> {
  const ca = await createTestCertificateAuthority(dir);
  const cert = await ca.issue('sip', names);
  // A quick self-check: the certificate is readable PEM (openssl wrote it) and names the CA.
  if (!(await readFile(cert.certFile, 'utf8')).includes('-----BEGIN CERTIFICATE-----')) throw new Error(`openssl wrote no certificate to ${cert.certFile}`);
  return { ca: ca.caFile, cert };
}
