// Avro values through the Confluent-compatible Schema Registry
// (wire format: magic 0, 4-byte schema id, Avro binary).
// Our own schemas are registered once at start; encoding is then synchronous
// with the cached avsc Type (the hot path of taps and event managers), and
// decoding uses the cached Type for our ids and asks the registry for others.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Request } from 'mappersmith';
import type avro from 'avsc';
import { avroType, loadSchemas } from './avroSchemas.ts';
import { registryAuth, registryHeaders, type RegistryAuth } from './registryAuth.ts';
import type { RecordsBySchema } from './generated/records.ts';
import { TOPICS, type TopicName, valueSubject } from './topology.ts';

type SpecOf<N extends TopicName> = Extract<(typeof TOPICS)[number], { name: N }>;
/** The record type carried by a topic's values. */
export type TopicRecord<N extends TopicName> = RecordsBySchema[SpecOf<N>['valueSchema']];

class SchemaRegistryError extends Error {
  constructor(
    message: string,
    readonly subject?: string,
  ) {
    super(message);
    this.name = 'SchemaRegistryError';
  }
}

export class RecordSerde {
  readonly registry: SchemaRegistry;
  private readonly idByTopic = new Map<TopicName, number>();
  private readonly typeById = new Map<number, avro.Type>();
  private readonly types = new Map<string, avro.Type>();

  private readonly retryBoundMs: number;
  private readonly auth: RegistryAuth | undefined;

  constructor(
    readonly registryUrl: string,
    readonly prefix: string,
    opts: RegistryClientOptions = {},
  ) {
    const timeout = opts.requestTimeoutMs ?? 10_000;
    this.retryBoundMs = opts.retryBoundMs ?? 60_000;
    // Without a timeout a request that is never answered (seen with kept-alive
    // sockets) hangs the caller for good; with one it fails and is retried.
    const requestTimeout = () => ({ prepareRequest: (next: () => Promise<Request>) => next().then((req) => req.enhance({ timeout })) });
    const auth = opts.auth === undefined ? registryAuth() : opts.auth || undefined;
    this.auth = auth;
    this.registry = new SchemaRegistry({
      host: registryUrl,
      retry: { retries: 2 },
      middlewares: [requestTimeout],
      ...(auth ? { auth: { username: auth.username, password: auth.password } } : {}),
    });
    for (const [name, json] of loadSchemas()) this.types.set(name, avroType(json));
  }

  /**
   * Registers every topic's value schema under TopicNameStrategy subjects with
   * BACKWARD compatibility (idempotent: the same schema gets the same id).
   */
  async registerAll(onSubject?: (subject: string, id: number) => void): Promise<Map<string, number>> {
    const schemas = loadSchemas();
    const out = new Map<string, number>();
    for (const spec of TOPICS) {
      const subject = valueSubject(this.prefix, spec.name);
      const json = schemas.get(spec.valueSchema);
      if (!json) throw new Error(`topic ${spec.name} names schema ${spec.valueSchema}, which is not in schemas/avro`);
      let id: number;
      const register = () => this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(json) }, { subject });
      try {
        try {
          ({ id } = await this.untilAnswered(register));
        } catch (err) {
          // A first registration is two requests: POST the version, PUT its BACKWARD rule. When the
          // PUT went unanswered, the retry finds the subject without a rule of its own, which Apicurio
          // reports as the global default (NONE). Finish the interrupted step instead of failing.
          if ((err as Error).name !== 'ConfluentSchemaRegistryCompatibilityError' || !/!= NONE\)$/.test((err as Error).message)) throw err;
          await this.untilAnswered(() => this.setBackward(subject));
          ({ id } = await this.untilAnswered(register));
        }
      } catch (err) {
        throw new SchemaRegistryError(`registering ${spec.valueSchema} under ${subject} failed: ${describeRegistryError(err)}`, subject);
      }
      this.idByTopic.set(spec.name, id);
      this.typeById.set(id, this.types.get(spec.valueSchema)!);
      out.set(subject, id);
      onSubject?.(subject, id);
    }
    return out;
  }

  private async setBackward(subject: string): Promise<void> {
    const res = await fetch(`${this.registryUrl}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...registryHeaders(this.auth) },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw Object.assign(new Error(`PUT /config/${subject}: HTTP ${res.status} ${await res.text()}`), { status: res.status });
  }

  /**
   * Looks up (without registering) the id of the schema this process writes,
   * for processes that only encode. Not the subject's latest: during a rolling
   * upgrade the subject already holds the next release's schema, and a process
   * still writing this shape must tag this shape's id (POST /subjects/{subject}
   * finds a schema among the subject's versions). A producer does not register
   * its schema itself: evolving a subject is `topics apply`'s step, so a schema
   * missing there stops the process with the subject named.
   */
  async loadIds(): Promise<void> {
    const schemas = loadSchemas();
    for (const spec of TOPICS) {
      const subject = valueSubject(this.prefix, spec.name);
      const schema = JSON.stringify(schemas.get(spec.valueSchema));
      let id: number;
      try {
        id = await this.untilAnswered(() => this.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema }));
      } catch (err) {
        throw new SchemaRegistryError(
          `schema ${spec.valueSchema} is not registered under ${subject} (run \`presence topics apply\` with this release): ${describeRegistryError(err)}`,
          subject,
        );
      }
      this.idByTopic.set(spec.name, id);
      this.typeById.set(id, this.types.get(spec.valueSchema)!);
    }
  }

  /** Encodes a topic's value. Throws if the value does not match the schema, naming the bad field. */
  encode<N extends TopicName>(topic: N, value: TopicRecord<N>): Buffer {
    const id = this.idByTopic.get(topic);
    if (id === undefined) throw new Error(`schema of ${topic} not loaded: call registerAll() or loadIds() first`);
    const type = this.typeById.get(id)!;
    let body: Buffer;
    try {
      body = type.toBuffer(value);
    } catch (err) {
      const problems: string[] = [];
      type.isValid(value, { errorHook: (p) => problems.push(p.join('.')) });
      throw new Error(`value for ${topic} does not match ${type.name}: ${problems.join(', ') || (err as Error).message}`, { cause: err });
    }
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = 0;
    out.writeUInt32BE(id, 1);
    body.copy(out, 5);
    return out;
  }

  /** Decodes a value in the Confluent wire format. */
  async decode<N extends TopicName>(topic: N, buf: Buffer): Promise<TopicRecord<N>> {
    if (buf.length < 5 || buf[0] !== 0) throw new Error(`value on ${topic} is not in the Confluent Avro wire format`);
    const local = this.typeById.get(buf.readUInt32BE(1));
    if (local) return local.fromBuffer(buf.subarray(5)) as TopicRecord<N>;
    return (await this.registry.decode(buf)) as TopicRecord<N>;
  }

  /** Whether `buf` carries the schema id this process writes `topic`'s values with (so decodeOwn can read it). */
  isOwn(topic: TopicName, buf: Buffer): boolean {
    return buf.length >= 5 && buf[0] === 0 && buf.readUInt32BE(1) === this.idByTopic.get(topic);
  }

  /** Decodes, synchronously, a value this process's own schema wrote (see isOwn): a store's read path, no registry. */
  decodeOwn<N extends TopicName>(topic: N, buf: Buffer): TopicRecord<N> {
    if (!this.isOwn(topic, buf)) throw new Error(`value on ${topic} was not written with this process's schema (id ${this.idByTopic.get(topic)})`);
    return this.typeById.get(buf.readUInt32BE(1))!.fromBuffer(buf.subarray(5)) as TopicRecord<N>;
  }

  /**
   * Retries a registry call that timed out or could not connect (registering
   * the same schema again is idempotent), with backoff, up to the bound; an
   * answer the registry gives (4xx, 5xx) is returned to the caller at once.
   */
  private async untilAnswered<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryBoundMs;
    let delay = 100;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (!unanswered(err) || Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  schemaIdOf(topic: TopicName): number | undefined {
    return this.idByTopic.get(topic);
  }
}

interface RegistryClientOptions {
  /** Basic auth; default from the settings (registryAuth.ts), false for none. */
  auth?: RegistryAuth | false;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** How long a call is retried while the registry does not answer (default 60 s). */
  retryBoundMs?: number;
}

/** A request that got no HTTP answer: timed out, or the connection failed (mappersmith reports these with status 400 and no body, or 0). */
function unanswered(err: unknown): boolean {
  const e = err as { message?: string; status?: number };
  return /Timeout \(\d+ms\)|ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/.test(e.message ?? '') || e.status === 0;
}

function describeRegistryError(err: unknown): string {
  const e = err as { message?: string; status?: number; name?: string };
  return `${e.name ?? 'Error'}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message ?? String(err)}`;
}
