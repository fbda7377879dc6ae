import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { ObjectStoreLedger } from '../../lambdas/core/campaigns/ledger.ts';
import { ledgerContract } from '../contract/ledger.contract.ts';

// The ledger of the local backends: one object per recipient in the workspace's folder.
ledgerContract('object store (folder)', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-ledger-'));
  const store = new FolderObjectStore({
    root,
    signingSecret: 'test-secret',
    publicUrl: 'http://localhost:3000',
  });
  return { ledger: new ObjectStoreLedger(store), cleanup: () => rm(root, { recursive: true, force: true }) };
});
