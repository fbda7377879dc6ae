import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { fetchSignedFrom, objectStoreContract } from '../contract/object-store.contract.ts';

objectStoreContract('memory', async () => {
  const store = new MemoryObjectStore({ signingSecret: 'test-secret', publicUrl: 'http://localhost:3000' });
  return { store, fetchSigned: fetchSignedFrom(store) };
});
