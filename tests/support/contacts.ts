import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';

/** The secret of the contacts tests, and its keys. */
export const contactsSecret = 'a-secret-of-at-least-thirty-two-characters';
export const contactsKeys = contactKeys(contactsSecret);

/**
 * Empty folder stores in temporary folders, removed after the file's tests by a hook this
 * call registers.
 */
export function folderStores(prefix: string): () => Promise<FolderObjectStore> {
  const roots: string[] = [];
  afterAll(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  return async () => {
    const root = await mkdtemp(path.join(tmpdir(), prefix));
    roots.push(root);
    return new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
  };
}

/** Bytes as a stream of small chunks: characters and quoted fields fall across chunks. */
export async function* chunked(data: Uint8Array | string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The id versions before canonical addresses gave an address: its text in lower case, as written. */
export function olderId(email: string): string {
  const idKey = createHmac('sha256', contactsSecret).update('pressroom:contact-id').digest();
  return createHmac('sha256', idKey).update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
}
