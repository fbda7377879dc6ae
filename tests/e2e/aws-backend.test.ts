/**
 * The real `pressroom` command with `--backend aws`, against s3rver on 127.0.0.1 as the data
 * bucket: the stack's outputs come from a cdk-outputs.json this test writes, the SDK finds
 * s3rver through AWS_ENDPOINT_URL_S3, and the signing secret is PRESSROOM_SECRET. Contacts
 * imported by one run are listed by the next, a campaign record in the bucket is read by
 * `campaign status`, and `publish` puts the publication and its files under publications/.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/s3-store.ts';
import {
  campaignFailure,
  recordCampaignFailure,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import { claim } from '../../lambdas/core/campaigns/ledger.ts';
import { planSending } from '../../lambdas/core/campaigns/quota.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { applyProviderFeedback } from '../../lambdas/core/contacts/provider-feedback.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
import { expectExit, repo, runPressroom } from '../support/cli.ts';
import { definition, publishReleases, registerDraft } from '../support/dispatch-fixtures.ts';
import { type RunningS3rver, s3rverClientConfig, s3rverEnvironment, startS3rver } from '../support/s3rver.ts';
import { writeStackOutputs } from '../support/stack-outputs.ts';

const BUCKET = 'pressroom-data-e2e';
const SECRET = 'e2e-signing-secret-0123456789abcdef';
let s3: RunningS3rver;
let work: string;
let store: S3ObjectStore;
let env: NodeJS.ProcessEnv;

const pressroom = (...args: string[]) => runPressroom([...args, '--backend', 'aws'], { cwd: work, env });

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of listAll(store, prefix)) keys.push(o.key);
  return keys.sort();
}

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  work = await mkdtemp(path.join(tmpdir(), 'pressroom-aws-cli-'));
  await cp(path.join(repo, 'examples'), path.join(work, 'examples'), { recursive: true });
  await writeStackOutputs(work, BUCKET);
  const { PRESSROOM_BACKEND: _b, PRESSROOM_STACK_OUTPUTS: _o, PRESSROOM_STACK: _s, ...rest } = process.env;
  env = { ...rest, ...s3rverEnvironment(s3.endpoint), PRESSROOM_SECRET: SECRET };
  store = new S3ObjectStore({ bucket: BUCKET, client: new S3Client(s3rverClientConfig(s3.endpoint)) });
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom contacts --backend aws', () => {
  it('imports into the bucket, and a second run lists them from it', async () => {
    const imported = await pressroom(
      'contacts',
      'import',
      'examples/contacts/journalistes.csv',
      '--list',
      'presse',
      '--json',
    );
    expectExit(imported, 0);
    const report = JSON.parse(imported.stdout) as { added: number; rejected: unknown[] };
    expect(report.added).toBeGreaterThan(20);
    expect((await keysUnder('contacts/')).length).toBeGreaterThan(0);

    const listed = await pressroom('contacts', 'list', '--list', 'presse', '--json');
    expectExit(listed, 0);
    const rows = JSON.parse(listed.stdout) as { email: string; status: string }[];
    expect(rows).toHaveLength(report.added);
    expect(rows.map((r) => r.email)).toContain('camille.martin@quotidien-ouest.example.com');
    expect(rows.every((r) => r.status === 'subscribed')).toBe(true);
  });

  it('unsubscribes in the bucket, with the contact ids of PRESSROOM_SECRET', async () => {
    expectExit(
      await pressroom('contacts', 'unsubscribe', 'J.Lefevre@radio-cite.example.org', '--list', 'presse'),
      0,
    );
    const shown = await pressroom('contacts', 'show', 'j.lefevre@radio-cite.example.org', '--json');
    expectExit(shown, 0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      contact: { email: 'j.lefevre@radio-cite.example.org' },
      suppression: { lists: { presse: expect.anything() } },
    });
  });
});

describe('pressroom campaign --backend aws', () => {
  it('reads a campaign record and its status from the bucket', async () => {
    await registerDraft(store, definition('etude-aws', { publication: 'etude-villes' }));
    const status = await pressroom('campaign', 'status', 'etude-aws', '--json');
    expectExit(status, 0);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'etude-aws', state: 'draft', sent: 0 });
    const list = await pressroom('campaign', 'list');
    expectExit(list, 0);
    expect(list.stdout).toMatch(/etude-aws\s+draft/);
    // A dispatch the schedule started failed: the record keeps why, the commands show it.
    await recordCampaignFailure(
      store,
      'etude-aws',
      campaignFailure('no contact is on the list "presse-regions"', new Date('2026-01-16T07:30:00Z')),
    );
    const failed = await pressroom('campaign', 'status', 'etude-aws');
    expectExit(failed, 0);
    expect(failed.stdout).toMatch(
      /\n {2}last error {2}2026-01-16 \d{2}:30 [+-]\d{2}:\d{2} \S+: no contact is on the list "presse-regions"\n/,
    );
    expect(JSON.parse((await pressroom('campaign', 'status', 'etude-aws', '--json')).stdout)).toMatchObject({
      state: 'draft',
      lastError: { at: '2026-01-16T07:30:00.000Z', message: 'no contact is on the list "presse-regions"' },
    });
    expect((await pressroom('campaign', 'list')).stdout).toMatch(
      /etude-aws\s+draft \(failed: see campaign status\)/,
    );
    const missing = await pressroom('campaign', 'status', 'nulle-part');
    expectExit(missing, 1);
    expect(missing.stderr).toContain('no campaign "nulle-part"');
  });

  it('shows the plan of a campaign the SES quota spreads over days', async () => {
    await registerDraft(store, definition('etude-etalee', { publication: 'etude-villes' }));
    const plan = planSending(
      2_500,
      { max24Hour: 1_000, maxSendRate: 14, sentLast24Hours: 0 },
      new Date('2026-01-16T06:00:00Z'),
      { timeZone: 'Europe/Paris', dailyStart: '09:00' },
    );
    await updateCampaign(
      store,
      'etude-etalee',
      () => {
        throw new Error('no record');
      },
      (c) => ({ ...c, state: 'scheduled', plan }),
    );
    const paced = await pressroom('campaign', 'status', 'etude-etalee');
    expectExit(paced, 0);
    expect(paced.stdout).toContain(
      '\n  pacing      950 on Fri 16 Jan from 07:00, 950 on Sat 17 Jan from 09:00, 600 on Sun 18 Jan from 09:02 Europe/Paris\n' +
        '              (SES quota: 0 of 1,000 sent in the last 24 hours, at most 14 a second; 50 kept free for other mail)\n',
    );
    expect(JSON.parse((await pressroom('campaign', 'status', 'etude-etalee', '--json')).stdout).plan).toEqual(
      plan,
    );
  });

  it('makes a dry run of a send from the bucket: a sample composed here, nothing written', async () => {
    await publishReleases(store);
    await writeFile(
      path.join(work, 'dry.yaml'),
      'name: etude-dry\npublication: etude-villes\naudience:\n  list: presse\nfrom: "Villes Internet <presse@villes-internet.example.org>"\n',
    );
    const run = await pressroom('send', 'dry.yaml', '--dry-run');
    expectExit(run, 0);
    expect(run.stdout).toContain(
      `Dry run of etude-dry on the stack (${BUCKET}): nothing sent, nothing written.`,
    );
    // Everyone imported above but the one unsubscribed from the list.
    expect(run.stdout).toMatch(/audience\s+29 /);
    expect(run.stdout).toMatch(/sample\s+"Étude : les villes moyennes résilientes" to /);
    expect(await store.head('campaigns/etude-dry/campaign.json')).toBeUndefined();
  });

  it("refuses up front a sender outside the stack's SES identity (send and schedule), writing nothing", async () => {
    const outputs = path.join(work, 'with-identity');
    await mkdir(outputs, { recursive: true });
    await writeStackOutputs(outputs, BUCKET, { SenderIdentity: 'villes-internet.example.org' });
    const withIdentity = { ...env, PRESSROOM_STACK_OUTPUTS: path.join(outputs, 'cdk-outputs.json') };
    await writeFile(
      path.join(work, 'other.yaml'),
      'name: autre-domaine\npublication: etude-villes\naudience:\n  list: presse\nfrom: "Open Cities <news@open-cities.example.org>"\nsendAt: 2030-01-15T08:00\n',
    );
    for (const command of ['send', 'schedule']) {
      const run = await runPressroom([command, 'other.yaml', '--backend', 'aws'], {
        cwd: work,
        env: withIdentity,
      });
      expectExit(run, 1);
      expect(run.stderr).toContain(
        'campaign "autre-domaine" is sent from news@open-cities.example.org, but the stack sends only from its SES identity villes-internet.example.org',
      );
      expect(run.stderr).toContain('Use a sender on villes-internet.example.org');
    }
    expect(await keysUnder('campaigns/autre-domaine/')).toEqual([]);
    // A sender on the identity goes on.
    const dry = await runPressroom(['send', 'dry.yaml', '--dry-run', '--backend', 'aws'], {
      cwd: work,
      env: withIdentity,
    });
    expectExit(dry, 0);
  });

  it('refuses the options only the local backend has, before touching the stack', async () => {
    const run = await pressroom(
      'send',
      'examples/campaigns/etude-2021-presse.yaml',
      '--test-to',
      'moi@example.org',
    );
    expectExit(run, 1);
    expect(run.stderr).toContain('--test-to does not work with --backend aws');
  });
});

describe('pressroom publish --backend aws', () => {
  const file = 'examples/publications/2024-03-12-open-data-barometer.md';

  it('uploads the publication, its organisation, its attachment and its image under publications/ (--no-wait)', async () => {
    const run = await pressroom('publish', file, '--no-wait');
    expectExit(run, 0);
    expect(run.stdout).toContain('Uploaded publications/2024/2024-03-12-open-data-barometer.md (4 file(s))');
    expect(await keysUnder('publications/')).toEqual([
      'publications/2024/2024-03-12-open-data-barometer.md',
      'publications/2024/attachments/open-data-barometer-summary.txt',
      'publications/2024/images/barometer-chart.jpg',
      'publications/organizations/open-cities-federation.yaml',
    ]);
    const uploaded = await store.get('publications/2024/2024-03-12-open-data-barometer.md');
    expect(new TextDecoder().decode(uploaded?.body)).toContain('Open Cities Federation');
    expect(uploaded?.contentType).toMatch(/^text\/markdown/);
  });

  it('exits 4 when no publish function answers within --wait', async () => {
    const run = await pressroom('publish', file, '--wait', '1');
    expectExit(run, 4);
    expect(run.stderr).toContain('no result after 1 s');
  });

  it('refuses a bad publication with its line, and uploads nothing', async () => {
    await writeFile(
      path.join(work, 'examples/publications/bad.md'),
      '---\ntitle: Mauvaise date\ndate: 2021-06-31\nlead: x\npublishers: [villes-internet]\n---\nCorps\n',
    );
    const before = await keysUnder('publications/');
    const run = await pressroom('publish', 'examples/publications/bad.md', '--no-wait');
    expectExit(run, 1);
    expect(run.stderr).toMatch(/bad\.md:3:\d+ date: must be a real calendar date/);
    expect(await keysUnder('publications/')).toEqual(before);
  });

  it('refuses --no-alerts (the publish function schedules the alerts), uploading nothing', async () => {
    const before = await keysUnder('publications/');
    const run = await pressroom('publish', file, '--no-alerts', '--no-wait');
    expectExit(run, 1);
    expect(run.stderr).toContain('--no-alerts does not work with --backend aws');
    expect(run.stderr).toContain('pressroom campaign cancel alert-<list>-<slug> --backend aws');
    expect(await keysUnder('publications/')).toEqual(before);
  });
});

describe('pressroom campaign report --backend aws', () => {
  it("reads the ledger and the provider's reports from the bucket", async () => {
    const keys = contactKeys(SECRET);
    const email = 'camille.martin@quotidien-ouest.example.com';
    const contact = keys.idOf(email);
    const sentAt = '2026-01-16T07:00:00.000Z';
    await registerDraft(store, definition('etude-aws-report', { publication: 'etude-villes' }));
    await claim(store, 'etude-aws-report', {
      contact,
      email,
      status: 'sent',
      messageId: `<etude-aws-report.${contact}@villes-internet.example.org>`,
      attempts: 1,
      claimedAt: sentAt,
      sentAt,
      mailer: 'ses',
      providerMessageId: '0100-abc',
    });
    // As the feedback function applies SES's Delivery event.
    await applyProviderFeedback(store, keys, {
      kind: 'delivery',
      id: '0100-abc',
      email,
      at: new Date('2026-01-16T07:00:02Z'),
      campaign: 'etude-aws-report',
    });
    const run = await pressroom('campaign', 'report', 'etude-aws-report', '--json');
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      counts: { recipients: 1, sent: 1, delivered: 1 },
      deliveredBy: ['provider'],
      rows: [{ email, delivered: { at: '2026-01-16T07:00:02.000Z', by: 'provider' } }],
    });
    const text = await pressroom('campaign', 'report', 'etude-aws-report');
    expect(text.stdout).toContain("delivered     1 (100%): SES: accepted by the recipient's server");
  });
});
