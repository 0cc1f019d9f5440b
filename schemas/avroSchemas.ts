// Loads the Avro contracts from schemas/avro: the one source of truth for
// record shapes (TypeScript types are generated from them by codegen.ts).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

const avroDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'avro');

export type AvroSchemaJson = Record<string, unknown> & { name: string; type: string };

/** Schema JSON by record name (file name without .avsc). */
export function loadSchemas(): Map<string, AvroSchemaJson> {
  const out = new Map<string, AvroSchemaJson>();
  for (const file of readdirSync(avroDir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()) {
    const json = JSON.parse(readFileSync(path.join(avroDir, file), 'utf8')) as AvroSchemaJson;
    const expected = file.replace(/\.avsc$/, '');
    if (json.name !== expected) throw new Error(`${file}: record name ${json.name} must match the file name`);
    out.set(expected, json);
  }
  return out;
}

/** A parsed avsc Type (validates the schema, e.g. defaults matching types). */
export function avroType(schema: AvroSchemaJson): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false });
}
