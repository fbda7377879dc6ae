import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3StoreError } from '../../lambdas/adapters/s3-store.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { storeSourceFiles } from '../../lambdas/adapters/store-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import type { ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import { type PublishDeps, publishRelease, siteDeps } from '../../lambdas/core/archive/publish.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { getText } from '../../lambdas/core/store/object-store.ts';
import { handler } from '../../lambdas/handlers/publish.ts';
import { releaseWorkspace } from '../support/dispatch-fixtures.ts';
import { releaseText } from '../support/memory-files.ts';
import { captureLogs, publishWorldForFile, SITE_URL } from './harness.ts';

/**
 * The publish function's embargoes (s3rver, Scheduler mocked at the client): an embargoed
 * upload sets its lift (the function's own ARN, unqualified, as the target); the lift event
 * publishes nothing before the embargo and the release after it; any other event is refused.
 * A release the web admin withdraws under its embargo has its lift deleted (tests/harness/
 * admin-withdraw-embargo.test.ts, with IAM); one Scheduler refuses to delete is logged here,
 * and one whose withdrawal failed after its record is finished when Lambda tries it again.
 */

const world = publishWorldForFile();
const lifts = {
  PRESSROOM_LIFT_SCHEDULE_GROUP: 'Pressroom-EmbargoLifts-Group-ABCD1234',
  PRESSROOM_LIFT_ROLE_ARN: 'arn:aws:iam::123456789012:role/pressroom-lifts',
  PRESSROOM_LIFT_DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-3:123456789012:pressroom-lifts-dlq',
};
const functionArn = 'arn:aws:lambda:eu-west-3:123456789012:function:pressroom-publish';
const lambdaContext = { invokedFunctionArn: `${functionArn}:$LATEST` } as Context;

/** A release under an embargo an hour ahead, uploaded and published by the handler. */
async function publishEmbargoed(slug: string, file: string, title: string): Promise<void> {
  const later = new Date(Math.floor(Date.now() / 1000 + 3600) * 1000).toISOString();
  const published = await world.upload(
    `publications/${file}`,
    releaseText(slug, title, `embargo: ${later.slice(0, 19)}+00:00\n`),
  );
  expect(await handler(published, lambdaContext)).toEqual([
    expect.objectContaining({ slug, state: 'embargoed' }),
  ]);
}

/** The web admin's withdrawal request for `slug`, uploaded: its S3 notification. */
const askWithdrawal = (slug: string, reason: string) =>
  world.upload(
    `publications/withdrawals/${slug}.json`,
    JSON.stringify({ slug, reason, by: 'web admin', at: new Date().toISOString() }),
  );
const scheduler = mockClient(SchedulerClient);

beforeAll(() => {
  for (const [name, value] of Object.entries(lifts)) vi.stubEnv(name, value);
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
});
afterAll(() => scheduler.restore());

describe('publish handler: embargoes', () => {
  let embargo = new Date();
  const slug = 'sous-embargo';

  it('sets the lift of an embargoed release at its embargo, invoking the function itself', async () => {
    // To the second, as written in the front matter; well ahead, since publishing prints a PDF
    // (seconds under load). The next test moves the clock past it.
    embargo = new Date(Math.floor(Date.now() / 1000 + 600) * 1000);
    const files = releaseWorkspace(`embargo: ${embargo.toISOString().slice(0, 19)}+00:00\n`);
    await world.store.put(
      'publications/organizations/villes-internet.yaml',
      files['organizations/villes-internet.yaml'] as string,
    );
    const event = await world.upload('publications/embargo.md', files['publications/embargo.md'] as string);
    const at = embargo.toISOString();
    expect(await handler(event, lambdaContext)).toEqual([
      expect.objectContaining({
        slug,
        state: 'embargoed',
        lift: { lift: 'scheduled', name: slug, at, schedule: 'created' },
      }),
    ]);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        Name: slug,
        GroupName: lifts.PRESSROOM_LIFT_SCHEDULE_GROUP,
        ScheduleExpression: `at(${at.slice(0, 19)})`,
        Target: expect.objectContaining({
          Arn: functionArn,
          RoleArn: lifts.PRESSROOM_LIFT_ROLE_ARN,
          DeadLetterConfig: { Arn: lifts.PRESSROOM_LIFT_DEAD_LETTER_ARN },
          Input: JSON.stringify({ lift: 'embargoes', release: slug }),
        }),
      }),
    ]);
    expect(await getText(world.store, 'site/index.html')).not.toContain(`releases/${slug}/`);
  });

  it('lifts nothing before the embargo, and publishes the release and the press room after it', async () => {
    expect(await handler({ lift: 'embargoes', release: slug }, lambdaContext)).toEqual({
      lift: 'embargoes',
      released: [],
    });
    // The lift fires after the embargo: the clock (Date only) moved past it.
    vi.useFakeTimers({ toFake: ['Date'], now: embargo.getTime() + 1000 });
    try {
      expect(await handler({ lift: 'embargoes' }, lambdaContext)).toEqual({
        lift: 'embargoes',
        released: [slug],
      });
    } finally {
      vi.useRealTimers();
    }
    expect(await getText(world.store, `site/releases/${slug}/index.html`)).toContain('Annonce sous embargo');
    expect(await getText(world.store, 'site/index.html')).toContain(`releases/${slug}/`);
    expect(await getText(world.store, 'site/feed.xml')).toContain(`releases/${slug}/`);
  }, 15_000);

  it('refuses a lift event of another shape', async () => {
    for (const event of [
      { lift: 'everything' },
      { lift: 'embargoes', extra: 1 },
      { lift: 'embargoes', release: '../x' },
    ])
      await expect(handler(event as never, lambdaContext)).rejects.toThrow('{ "lift": "embargoes" }');
  });

  it('withdraws a release under its embargo whose lift Scheduler refuses to delete: logged, withdrawn all the same', async () => {
    const other = 'autre-embargo';
    await publishEmbargoed(other, 'autre.md', 'Autre annonce');
    scheduler
      .on(DeleteScheduleCommand)
      .rejects(new Error('not authorized to perform: scheduler:DeleteSchedule'));
    const request = await askWithdrawal(other, 'Reportée');
    let outcomes: unknown;
    const logs = await captureLogs(async () => {
      outcomes = await handler(request, lambdaContext);
    });
    expect(outcomes).toEqual([
      expect.objectContaining({
        outcome: 'withdrawn',
        slug: other,
        withdrawal: 'withdrawn',
        lift: {
          outcome: 'failed',
          name: other,
          reason: expect.stringContaining(
            'DeleteSchedule failed for Pressroom-EmbargoLifts-Group-ABCD1234/autre-embargo',
          ),
        },
      }),
    ]);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: other, GroupName: lifts.PRESSROOM_LIFT_SCHEDULE_GROUP },
    ]);
    const error = logs
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((l) => l.level === 'ERROR');
    expect(error).toMatchObject({
      message: 'the embargo lift could not be deleted: it will fire and publish nothing',
      slug: other,
      schedule: other,
    });
    const manifest = JSON.parse((await getText(world.store, `archive/${other}/release.json`)) ?? '{}');
    expect(manifest.withdrawn).toMatchObject({ reason: 'Reportée', by: 'web admin' });
  });

  it('finishes a withdrawal that failed after its record when Lambda tries the event again: its lift deleted then', async () => {
    const cut = 'embargo-coupe';
    await publishEmbargoed(cut, 'coupe.md', 'Annonce coupée');
    scheduler.on(DeleteScheduleCommand).resolves({});
    const deletes = () =>
      scheduler.commandCalls(DeleteScheduleCommand).filter((c) => c.args[0].input.Name === cut);
    const request = await askWithdrawal(cut, 'Annulée');
    // S3 refuses the first press room write (the SDK's retries spent): the adapter's
    // S3StoreError, after the manifest's switch, fails the invocation.
    const send = S3Client.prototype.send;
    let refused: string | undefined;
    const spy = vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (
      this: S3Client,
      ...args: Parameters<S3Client['send']>
    ) {
      const [command] = args;
      if (
        refused === undefined &&
        command instanceof PutObjectCommand &&
        command.input.Key?.startsWith('site/')
      ) {
        refused = command.input.Key;
        return Promise.reject(
          new S3ServiceException({
            name: 'SlowDown',
            $fault: 'server',
            $metadata: { httpStatusCode: 503 },
            message: 'Please reduce your request rate.',
          }),
        );
      }
      return send.apply(this, args);
    } as S3Client['send']);
    try {
      const failure = await handler(request, lambdaContext).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(S3StoreError);
      expect((failure as Error).message).toContain('SlowDown (HTTP 503)');
    } finally {
      spy.mockRestore();
    }
    expect(refused).toMatch(/^site\//);
    expect(deletes()).toEqual([]);
    const manifest = async () =>
      JSON.parse((await getText(world.store, `archive/${cut}/release.json`)) ?? '{}');
    expect((await manifest()).withdrawn).toMatchObject({ reason: 'Annulée', by: 'web admin' });
    expect((await manifest()).withdrawn.doneAt).toBeUndefined();

    // Lambda's retry: the same event, the withdrawal finished.
    expect(await handler(request, lambdaContext)).toEqual([
      expect.objectContaining({
        outcome: 'withdrawn',
        slug: cut,
        withdrawal: 'withdrawn',
        resumed: true,
        lift: { outcome: 'deleted', name: cut },
      }),
    ]);
    expect(deletes()).toHaveLength(1);
    expect((await manifest()).withdrawn.doneAt).toEqual(expect.any(String));
    expect(await getText(world.store, 'site/index.html')).not.toContain(`releases/${cut}/`);
    // A notification delivered once more changes nothing.
    expect(await handler(request, lambdaContext)).toEqual([
      expect.objectContaining({ outcome: 'withdrawn', withdrawal: 'already', siteObjectsWritten: 0 }),
    ]);
    expect(deletes()).toHaveLength(1);
  }, 30_000);
});

describe('publish handler: withdrawal requests', () => {
  it('refuses, without retry, what the one who asked can fix: a reason on two lines, a release the archive does not have', async () => {
    expect(await handler(await askWithdrawal('sous-embargo', 'une\ndeux'), lambdaContext)).toEqual([
      {
        key: 'publications/withdrawals/sous-embargo.json',
        outcome: 'refused',
        slug: 'sous-embargo',
        reason: '--reason must be one line',
      },
    ]);
    expect(await handler(await askWithdrawal('inconnue', 'Erreur'), lambdaContext)).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        slug: 'inconnue',
        reason: expect.stringContaining('no release "inconnue" in the archive'),
      }),
    ]);
  });

  it('ignores a request delivered again after the release was brought back with --replace', async () => {
    const back = 'de-retour';
    const published = await world.upload('publications/retour.md', releaseText(back, 'Annonce de retour'));
    expect(await handler(published, lambdaContext)).toEqual([
      expect.objectContaining({ slug: back, state: 'public' }),
    ]);
    const request = await askWithdrawal(back, 'Erreur de chiffres');
    expect(await handler(request, lambdaContext)).toEqual([
      expect.objectContaining({ outcome: 'withdrawn', slug: back, withdrawal: 'withdrawn' }),
    ]);
    const manifest = async () =>
      JSON.parse((await getText(world.store, `archive/${back}/release.json`)) ?? '{}') as ReleaseManifest;
    expect((await manifest()).withdrawn?.doneAt).toEqual(expect.any(String));

    // Brought back, as `pressroom publish --replace` does, through the core.
    const templates = await loadTemplateFiles();
    const deps: PublishDeps = {
      store: world.store,
      files: storeSourceFiles(world.store, { root: 'publications/' }),
      renderer: createReleaseRenderer(templates),
      images: sharpImages(),
      ...siteDeps(templates, { siteUrl: SITE_URL, siteLang: 'fr', siteTitle: 'Salle de presse des villes' }),
    };
    expect(await publishRelease('/publications/retour.md', deps, { replace: true })).toMatchObject({
      slug: back,
      state: 'public',
    });
    expect((await manifest()).withdrawn).toBeUndefined();

    // The same request delivered again (Lambda's retry, a redrive of the dead-letter queue).
    let outcomes: unknown;
    const logs = await captureLogs(async () => {
      outcomes = await handler(request, lambdaContext);
    });
    expect(outcomes).toEqual([
      {
        key: `publications/withdrawals/${back}.json`,
        outcome: 'ignored',
        reason: expect.stringContaining(`"${back}" was brought back from a withdrawal`),
      },
    ]);
    expect((await manifest()).withdrawn).toBeUndefined();
    expect(await getText(world.store, 'site/index.html')).toContain(`releases/${back}/`);
    expect(logs).toContain('publication ignored');
    expect(logs).not.toContain('web admin');
    expect(logs).not.toContain('Erreur de chiffres');
  }, 30_000);
});
