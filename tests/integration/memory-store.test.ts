import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { objectStoreContract } from '../contract/object-store.contract.ts';

objectStoreContract(
  'memory',
  async () => {
    const store = new MemoryObjectStore({ signingSecret: 'test-secret', publicUrl: 'http://localhost:3000' });
    return {
      store,
      async fetchSigned(url) {
        const checked = store.verifySignedUrl(new URL(url).pathname + new URL(url).search);
        if (!checked.ok) return { status: 403, body: checked.reason };
        const object = await store.get(checked.key);
        return object
          ? { status: 200, body: new TextDecoder().decode(object.body) }
          : { status: 404, body: 'not found' };
      },
    };
  },
  { conditionalWrites: true },
);
