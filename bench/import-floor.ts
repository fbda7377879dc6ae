import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Parser } from 'csv-parse';
import { csvReading } from '../lambdas/core/contacts/import.ts';
import { type ContactKeys, normalizeEmail, shardOf } from '../lambdas/core/contacts/model.ts';
import { asciiJson } from '../lambdas/core/store/object-store.ts';

/**
 * The least that any import of the bench's file into an empty store has to do, measured in the
 * import's own process as a second anchor (issue 19): csv-parse, each address normalised, its
 * contact id (node:crypto's HMAC), each contact as the JSON the store keeps (the same keys as a
 * new contact, non-ASCII escaped), one file per shard. Nothing else: no check of the values,
 * no rejected rows, no merging of an address met twice, no staging in bounded memory, no
 * all-or-nothing switch of the index, no reading of the suppressions or of the shards already
 * there. Its output is written to a folder of its own and deleted; no import reads it.
 *
 * It knows the bench's columns (Prénom;Nom;Courriel;Média;Fonction;Tags) and refuses another
 * header rather than measure something else.
 */
const header = ['Prénom', 'Nom', 'Courriel', 'Média', 'Fonction', 'Tags'];

export async function importFloor(
  csv: string,
  dir: string,
  keys: ContactKeys,
  now: string,
): Promise<{ ms: number; cpuMs: number; contacts: number }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const shards = new Map<string, string[]>();
  const lists = { presse: { addedAt: now, source: `import:${path.basename(csv)}` } };
  let headerSeen = false;
  let contacts = 0;
  const onRecord = (fields: string[]) => {
    if (!headerSeen) {
      if (fields.join(';') !== header.join(';'))
        throw new Error(`importFloor reads the bench's file only: header ${JSON.stringify(fields)}`);
      headerSeen = true;
      return;
    }
    const [firstName, lastName, address = '', outlet, role, tags = ''] = fields;
    const email = normalizeEmail(address);
    if (!email) return;
    const id = keys.idOf(email);
    const contact: Record<string, unknown> = {
      id,
      email,
      tags: [...new Set(tags.split(/[,;|]/).map((t) => t.trim().toLowerCase()))].filter(Boolean).sort(),
      lists,
      createdAt: now,
      updatedAt: now,
    };
    if (firstName) contact.firstName = firstName;
    if (lastName) contact.lastName = lastName;
    if (outlet) contact.outlet = outlet;
    if (role) contact.role = role;
    const shard = shardOf(id);
    let parts = shards.get(shard);
    if (!parts) {
      parts = [];
      shards.set(shard, parts);
    }
    parts.push(`"${id}":${asciiJson(JSON.stringify(contact))}`);
    contacts++;
  };
  const parser = new (class extends Parser {
    override push(record: unknown, encoding?: BufferEncoding): boolean {
      if (record === null) return super.push(record, encoding);
      onRecord(record as string[]);
      return true;
    }
  })({ delimiter: ';', ...csvReading });
  parser.resume();
  await pipeline(createReadStream(csv), parser);
  await Promise.all(
    [...shards].map(([shard, parts]) =>
      writeFile(path.join(dir, `${shard}.json`), `{"contacts":{${parts.join(',')}}}\n`),
    ),
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const { user, system } = process.cpuUsage(cpu);
  await rm(dir, { recursive: true, force: true });
  return { ms, cpuMs: (user + system) / 1000, contacts };
}
