// The client side of SCRAM (RFC 5802; SHA-256 per RFC 7677, SHA-512 as Kafka
// adds it), for the wire client's SaslAuthenticate rounds. No channel binding
// ("n,,"), as Kafka's SCRAM has none. Passwords are used as given (no SASLprep):
// Kafka's own clients do the same, so the stored credentials match.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const HASH = { 'SCRAM-SHA-256': { name: 'sha256', length: 32 }, 'SCRAM-SHA-512': { name: 'sha512', length: 64 } } as const;
/** Kafka refuses fewer (ScramMechanism.minIterations); a server asking for fewer is not trusted. */
const MIN_ITERATIONS = 4096;

/** RFC 5802 §5.1: `=` and `,` in a username are escaped. */
function saslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const i = part.indexOf('=');
    if (i === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

export class ScramClient {
  private readonly hash: (typeof HASH)[ScramMechanism];
  private readonly clientFirstBare: string;
  private serverSignature: Buffer | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
    /** Tests pass RFC 7677's nonce; otherwise 24 random bytes. */
    private readonly nonce: string = randomBytes(24).toString('base64'),
  ) {
    this.hash = HASH[mechanism];
    this.clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  }

  /** client-first-message. */
  first(): string {
    return `n,,${this.clientFirstBare}`;
  }

  /** client-final-message for the server-first-message. */
  final(serverFirst: string): string {
    const a = attributes(serverFirst);
    if (a.has('e')) throw new Error(`SCRAM: the server refused: ${a.get('e')}`);
    const nonce = a.get('r');
    const salt = a.get('s');
    const iterations = Number(a.get('i'));
    if (!nonce || !salt || !Number.isInteger(iterations)) throw new Error(`SCRAM: malformed server-first-message ${JSON.stringify(serverFirst)}`);
    // The server's nonce must extend ours, or this answer belongs to another exchange.
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) throw new Error('SCRAM: the server nonce does not extend the client nonce');
    if (iterations < MIN_ITERATIONS) throw new Error(`SCRAM: ${iterations} iterations is below ${MIN_ITERATIONS}`);
    const salted = pbkdf2Sync(this.password, Buffer.from(salt, 'base64'), iterations, this.hash.length, this.hash.name);
    const clientKey = this.hmac(salted, 'Client Key');
    const storedKey = createHash(this.hash.name).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.serverSignature = this.hmac(this.hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final-message: the server proves it knows the credentials too. */
  verify(serverFinal: string): void {
    const a = attributes(serverFinal);
    if (a.has('e')) throw new Error(`SCRAM: the server refused: ${a.get('e')}`);
    if (!this.serverSignature) throw new Error('SCRAM: server-final-message before the client-final-message');
    const v = Buffer.from(a.get('v') ?? '', 'base64');
    if (v.length !== this.serverSignature.length || !timingSafeEqual(v, this.serverSignature)) throw new Error('SCRAM: the server signature does not verify');
  }

  private hmac(key: Buffer, data: string): Buffer {
    return createHmac(this.hash.name, key).update(data, 'utf8').digest();
  }
}
