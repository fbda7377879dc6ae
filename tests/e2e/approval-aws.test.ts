/**
 * Approval with `--backend aws`, the real command against s3rver as the data bucket (outputs
 * from a cdk-outputs.json this test writes, the signing secret from PRESSROOM_SECRET):
 * `proof` writes the proof into the bucket and prints a link on the press room's domain,
 * `send` and `schedule` refuse an unapproved campaign before anything is dispatched or
 * scheduled, `campaign approve` records the approval in the bucket, and an edit voids it.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import { readApproval } from '../../lambdas/core/campaigns/approval.ts';
import { verifyProofToken } from '../../lambdas/core/campaigns/proof.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import { expectExit, repo, runPressroom } from '../support/cli.ts';
import { publishReleases } from '../support/dispatch-fixtures.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

const BUCKET = 'pressroom-approval-e2e';
const SECRET = 'e2e-approval-aws-secret-0123456789abcdef';
let s3: RunningS3rver;
let work: string;
let store: S3ObjectStore;
let env: NodeJS.ProcessEnv;

const pressroom = (...args: string[]) => runPressroom([...args, '--backend', 'aws'], { cwd: work, env });

const campaign = (subject: string, sendAt = true) =>
  [
    'name: etude-approuvee',
    'publication: etude-villes',
    'audience:',
    '  list: presse',
    'from: "Villes Internet <presse@villes-internet.example.org>"',
    `subject: "${subject}"`,
    ...(sendAt ? ['sendAt: 2099-06-08T08:00 Europe/Paris'] : []),
    'approval: required',
    '',
  ].join('\n');

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  work = await mkdtemp(path.join(tmpdir(), 'pressroom-approval-aws-'));
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  await writeStackOutputs(work, BUCKET);
  const { PRESSROOM_BACKEND: _b, PRESSROOM_STACK_OUTPUTS: _o, PRESSROOM_STACK: _s, ...rest } = process.env;
  env = { ...rest, ...s3rverEnvironment(s3.endpoint), PRESSROOM_SECRET: SECRET };
  store = new S3ObjectStore({ bucket: BUCKET, client: new S3Client(s3rverClientConfig(s3.endpoint)) });
  await publishReleases(store);
  await writeFile(path.join(work, 'etude.yaml'), campaign('Communiqué approuvé'));
  // The same campaign, to send now.
  await writeFile(path.join(work, 'now.yaml'), campaign('Communiqué approuvé', false));
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('approval with --backend aws', () => {
  it('refuses send and schedule of an unapproved campaign, dispatching and scheduling nothing', async () => {
    for (const [command, file] of [
      ['send', 'now.yaml'],
      ['schedule', 'etude.yaml'],
    ]) {
      const run = await pressroom(command as string, file as string);
      expectExit(run, 1);
      expect(run.stderr).toContain('campaign "etude-approuvee" needs an approval (approval: required)');
    }
    expect(await store.head('campaigns/etude-approuvee/campaign.json')).toBeUndefined();
  });

  it("stores the proof in the bucket and links to it on the press room's domain, signed with the stack's secret", async () => {
    const run = await pressroom('proof', 'etude.yaml', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as { url: string; version: string; key: string };
    expect(result.url.startsWith('https://d111111abcdef8.cloudfront.net/proof/p1.')).toBe(true);
    const token = result.url.slice('https://d111111abcdef8.cloudfront.net/proof/'.length);
    expect(verifyProofToken(contactKeys(SECRET), token, new Date())).toMatchObject({
      campaign: 'etude-approuvee',
      hash: result.version,
    });
    const keys: string[] = [];
    for await (const item of listAll(store, 'proofs/etude-approuvee/')) keys.push(item.key);
    expect(keys.sort()).toEqual(
      [
        'latest.json',
        `${result.version}/email.html`,
        `${result.version}/email.txt`,
        `${result.version}/page.html`,
        `${result.version}/proof.json`,
      ]
        .map((k) => `proofs/etude-approuvee/${k}`)
        .sort(),
    );
  });

  it('records the approval in the bucket; an edit of the campaign file then voids it', async () => {
    const approve = await pressroom('campaign', 'approve', 'etude-approuvee', '--by', 'Florence Poznanski');
    expectExit(approve, 0);
    expect(await readApproval(store, 'etude-approuvee')).toMatchObject({
      by: 'Florence Poznanski',
      subject: 'Communiqué approuvé',
    });
    await writeFile(path.join(work, 'etude.yaml'), campaign('Communiqué modifié'));
    const run = await pressroom('schedule', 'etude.yaml');
    expectExit(run, 1);
    expect(run.stderr).toMatch(
      /campaign "etude-approuvee" was approved by Florence Poznanski on .*"Communiqué approuvé"\), but it changed since: the subject/,
    );
    expect(await store.head('campaigns/etude-approuvee/campaign.json')).toBeUndefined();
  });
});
