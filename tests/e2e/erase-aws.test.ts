/**
 * `pressroom contacts erase --backend aws` on a versioned bucket (s3rver behind the versioning
 * proxy, as the stack's data bucket keeps versions): once the command has run, no version of
 * any object under contacts/, suppressions/, subscriptions/ or campaigns/, old or current,
 * holds the erased address, while everybody else's current data and the history of the rest
 * of the bucket stay.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { claim, type LedgerEntry, record } from '../../lambdas/core/campaigns/ledger.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { subscriptionKeys } from '../../lambdas/core/contacts/subscription.ts';
import { expectExit, repo, runPressroom } from '../support/cli.ts';
import { definition, registerDraft } from '../support/dispatch-fixtures.ts';
import { bucketHistory } from '../support/s3-versions.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

const BUCKET = 'pressroom-data-erase';
const SECRET = 'e2e-erase-secret-0123456789abcdef';
const ERASED = 'camille.martin@quotidien-ouest.example.com';
/** A name only the erased person had: in the second import's row. */
const ERASED_NAME = 'Zéphyrine';
const PERSONAL_PREFIXES = ['contacts/', 'suppressions/', 'subscriptions/', 'campaigns/'];

let s3: RunningS3rver;
let work: string;
let client: S3Client;
let store: S3ObjectStore;
let env: NodeJS.ProcessEnv;

const pressroom = (...args: string[]) => runPressroom([...args, '--backend', 'aws'], { cwd: work, env });

/** Every version under the personal-data prefixes, with its text. */
async function personalHistory() {
  return (await Promise.all(PERSONAL_PREFIXES.map((p) => bucketHistory(client, BUCKET, p)))).flat();
}

const holdsPerson = (body: string | undefined) =>
  body !== undefined &&
  (body.toLowerCase().includes(ERASED) || body.includes(ERASED_NAME) || body.includes('\\u00e9phyrine'));

beforeAll(async () => {
  s3 = await startS3rver([BUCKET], { versioned: true });
  work = await mkdtemp(path.join(tmpdir(), 'pressroom-erase-aws-'));
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  await writeStackOutputs(work, BUCKET);
  const { PRESSROOM_BACKEND: _b, PRESSROOM_STACK_OUTPUTS: _o, PRESSROOM_STACK: _s, ...rest } = process.env;
  env = { ...rest, ...s3rverEnvironment(s3.endpoint), PRESSROOM_SECRET: SECRET };
  client = new S3Client(s3rverClientConfig(s3.endpoint));
  store = new S3ObjectStore({ bucket: BUCKET, client });
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom contacts erase --backend aws on a versioned bucket', () => {
  it('leaves no version of any personal-data object holding the address', async () => {
    // Contacts imported, then imported again with the person renamed: two generations of shards.
    expectExit(
      await pressroom('contacts', 'import', 'examples/contacts/journalistes.csv', '--list', 'presse'),
      0,
    );
    await writeFile(
      path.join(work, 'again.csv'),
      `email;prénom;nom\n${ERASED.toUpperCase()};${ERASED_NAME};Martin\nnouvelle@exemple.example.org;Nina;Neuve\n`,
    );
    expectExit(await pressroom('contacts', 'import', 'again.csv', '--list', 'presse'), 0);
    // An unsubscribe from one list: the suppression shard holds the address, then a new version.
    expectExit(await pressroom('contacts', 'unsubscribe', ERASED, '--list', 'presse'), 0);
    // A subscription request waiting for its confirmation, written twice.
    const id = contactKeys(SECRET).idOf(ERASED);
    const pending = (firstName: string) =>
      JSON.stringify({
        id,
        email: ERASED,
        requests: {
          lettre: {
            lang: 'fr',
            firstName,
            requestedAt: '2026-03-02T09:00:00.000Z',
            expiresAt: '2099-03-04T09:00:00.000Z',
          },
        },
      });
    await store.put(subscriptionKeys.pending(id), pending('Camille'));
    await store.put(subscriptionKeys.pending(id), pending(ERASED_NAME));
    // A delivery record: claimed, then sent.
    await registerDraft(store, definition('etude-erase'));
    const entry: LedgerEntry = {
      contact: id,
      email: ERASED,
      name: `${ERASED_NAME} Martin`,
      status: 'claimed',
      messageId: `<c.${id}@villes-internet.example.org>`,
      attempts: 1,
      claimedAt: '2026-03-02T09:00:00.000Z',
    };
    const version = await claim(store, 'etude-erase', entry);
    await record(store, 'etude-erase', { ...entry, status: 'sent' }, version ?? '');
    // Outside the personal prefixes, history is kept.
    await store.put('publications/note.md', 'premier jet');
    await store.put('publications/note.md', 'version finale');

    const before = await personalHistory();
    // The first shard object, the first request, the claimed ledger entry.
    expect(before.filter((v) => !v.latest && holdsPerson(v.body)).length).toBeGreaterThanOrEqual(3);

    const run = await pressroom('contacts', 'erase', ERASED, '--json');
    expectExit(run, 0);
    const report = JSON.parse(run.stdout) as { id: string; hadContact: boolean; oldVersions: number };
    expect(report).toMatchObject({ id, hadContact: true, ledgerEntries: 1, messages: 0 });
    expect(report.oldVersions).toBeGreaterThan(3);
    // Counts only: the address is not printed.
    expect(run.stdout + run.stderr).not.toContain(ERASED);

    const after = await personalHistory();
    expect(after.filter((v) => holdsPerson(v.body)).map((v) => v.key)).toEqual([]);
    // Everybody else is still there, and the rest of the bucket keeps its history.
    const listed = await pressroom('contacts', 'list', '--list', 'presse', '--json');
    expectExit(listed, 0);
    const emails = (JSON.parse(listed.stdout) as { email: string }[]).map((r) => r.email);
    expect(emails).toContain('nouvelle@exemple.example.org');
    expect(emails).not.toContain(ERASED);
    expect(emails.length).toBeGreaterThan(20);
    expect((await bucketHistory(client, BUCKET, 'publications/')).map((v) => v.body)).toEqual([
      'version finale',
      'premier jet',
    ]);

    // The hashed suppression stays: the address is not imported again.
    expectExit(await pressroom('contacts', 'import', 'again.csv', '--list', 'presse'), 0);
    const again = await pressroom('contacts', 'list', '--list', 'presse', '--json');
    expect((JSON.parse(again.stdout) as { email: string }[]).map((r) => r.email)).not.toContain(ERASED);
    // Seven runs of the command: room for a loaded machine.
  }, 120_000);
});
