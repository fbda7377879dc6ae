/**
 * `pressroom subscriptions sweep` on a workspace's store: the expired request (and the address
 * it held) and the spent rate-limit window go, the live request stays; counts only are printed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import { expectExit, runPressroom } from '../support/cli.ts';
import { fromNow, pendingRequest } from '../support/subscription-fixtures.ts';

const secret = 'e2e-subscriptions-sweep-secret-0123456789';
let work: string;
let store: FolderObjectStore;

const hour = 3600_000;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pressroom-sweep-'));
  await writeFile(path.join(work, 'pressroom.yaml'), '# every setting at its default\n');
  store = new FolderObjectStore({
    root: path.join(work, '.pressroom'),
    signingSecret: secret,
    publicUrl: 'http://localhost:3000',
  });
  await store.put(
    'subscriptions/pending/aaaa.json',
    JSON.stringify({ id: 'aaaa', email: 'expiree@exemple.org', requests: { lettre: pendingRequest(-hour) } }),
  );
  await store.put(
    'subscriptions/pending/bbbb.json',
    JSON.stringify({ id: 'bbbb', email: 'vivante@exemple.org', requests: { lettre: pendingRequest(hour) } }),
  );
  await store.put(
    'subscriptions/throttle/address/aaaa.json',
    JSON.stringify({ since: fromNow(-hour), count: 1, windowMs: 600_000 }),
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom subscriptions sweep', () => {
  it('removes the expired request and the spent window, keeps the live request, prints counts only', async () => {
    const env = { ...process.env, PRESSROOM_SECRET: secret };
    const run = await runPressroom(['subscriptions', 'sweep', '--json'], { cwd: work, env });
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({ pending: 1, throttles: 1 });
    expect(run.stdout + run.stderr).not.toMatch(/@exemple\.org/);
    expect(await store.head('subscriptions/pending/aaaa.json')).toBeUndefined();
    expect(await store.head('subscriptions/throttle/address/aaaa.json')).toBeUndefined();
    expect((await getJson<{ email: string }>(store, 'subscriptions/pending/bbbb.json'))?.value.email).toBe(
      'vivante@exemple.org',
    );
    const again = await runPressroom(['subscriptions', 'sweep'], { cwd: work, env });
    expectExit(again, 0);
    expect(again.stdout).toContain(
      'Removed 0 expired or emptied request record(s) and 0 spent rate-limit window(s).',
    );
  });
});
