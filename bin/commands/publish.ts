import { Command, InvalidArgumentError } from 'commander';
import { stateOf } from '../../lambdas/core/archive/manifest.ts';
import { releaseDownloads, siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import {
  awaitOutcome,
  planUpload,
  snapshotOutcome,
  uploadPlan,
} from '../../lambdas/core/publication/upload.ts';
import { loadConfig, localBackend, localOnly, openAwsBackend } from '../context.ts';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';
import { print, warn } from '../output.ts';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('give a number of seconds, 0 or more');
  return n;
}

/** `publish --backend aws`: upload under publications/, then wait for the publish function. */
async function publishOnStack(
  file: string,
  opts: { replace?: boolean; templates?: string; json?: boolean; wait: number | false },
): Promise<void> {
  localOnly(
    opts.replace === true,
    '--replace',
    'uploads have no --replace: give the publication another "slug"',
  );
  localOnly(
    opts.templates !== undefined,
    '--templates',
    'the publish function renders with the templates bundled at deploy: change templates/ and deploy again',
  );
  const aws = await openAwsBackend();
  // Checked here first, with the local loader: problems are shown at once and nothing is uploaded.
  const plan = await planUpload(file, aws.files);
  warn(plan.notices);
  const { reportKeyOf } = await import('../../lambdas/handlers/publish.ts');
  const reportKey = reportKeyOf(plan.key);
  const slug = plan.publication.slug;
  const before = await snapshotOutcome(aws.store, slug, reportKey);
  await uploadPlan(plan, aws.files, aws.store);
  const uploaded = plan.items.map((i) => `s3://${aws.outputs.DataBucketName}/${i.key}`);
  if (opts.wait === false) {
    if (opts.json) return print({ slug, key: plan.key, uploaded, outcome: 'uploaded' }, true);
    return print([
      `Uploaded ${plan.key} (${plan.items.length} file(s)); the publish function takes it from here.`,
      ...uploaded.map((u) => `  ${u}`),
      `  problems, if any: s3://${aws.outputs.DataBucketName}/${reportKey}`,
    ]);
  }
  const outcome = await awaitOutcome(aws.store, { slug, reportKey, before }, { timeoutMs: opts.wait * 1000 });
  if (opts.json) {
    print({ slug, key: plan.key, uploaded, ...outcome }, true);
  } else if (outcome.outcome === 'published') {
    const summary = outcome.manifest.summary;
    const state = stateOf(summary, new Date());
    const site = aws.outputs.PressRoomUrl.endsWith('/')
      ? aws.outputs.PressRoomUrl
      : `${aws.outputs.PressRoomUrl}/`;
    print([
      `Published ${slug} (${state}) from ${plan.key}`,
      state === 'public'
        ? `  page        ${site}releases/${slug}/${releaseDownloads.page}`
        : `  not in the public press room (${state})`,
      '  PDF         none: the functions have no Chromium',
    ]);
  }
  if (outcome.outcome === 'rejected') {
    if (opts.json) process.exitCode = 1;
    else
      throw new PressroomError(
        `the publish function refused ${plan.key}; the archive is unchanged. ${outcome.report.message ?? 'No detail in the report.'}`,
      );
  }
  if (outcome.outcome === 'pending') {
    process.stderr.write(
      `pressroom: uploaded ${plan.key}, but no result after ${opts.wait} s: the publish function may still be working. See s3://${aws.outputs.DataBucketName}/archive/${slug}/release.json for the release, and s3://${aws.outputs.DataBucketName}/${reportKey} for problems.\n`,
    );
    process.exitCode = 4;
  }
}

export const publishCommand = new Command('publish')
  .description('Validate, render and archive a publication, and update the press room')
  .argument('<publication>', 'the publication file (Markdown with YAML front matter)')
  .option('--replace', 'replace a release with the same slug that came from another file')
  .option(
    '--no-pdf',
    'do not print a PDF (by default headless Chromium prints one: CHROMIUM_PATH, a system Chromium, or the one in @sparticuz/chromium)',
  )
  .option('--templates <dir>', 'template folder laid out like templates/')
  .option('--json', 'print the result as JSON')
  .option('--wait <seconds>', 'with --backend aws: how long to wait for the publish function', seconds, 60)
  .option('--no-wait', 'with --backend aws: upload and return at once')
  .addOption(dataDirOption)
  .addOption(backendOption)
  .addHelpText(
    'after',
    `
Publishing the same file again updates its release in place. A release with an embargo in
the future, or "visibility: private", is archived but stays out of the public press room and
feeds (\`pressroom archive refresh\` publishes releases whose embargo has passed).

With --backend aws the publication, its organisation files and its attachments are
uploaded under publications/<year>/ of the stack's bucket (the .md last), and the publish
function does the rest; the command waits for the release's manifest to change or for the
error report <name>.errors.json to appear. Exit 1 on problems, 4 when --wait ran out.

Example:
  $ pressroom publish examples/publications/2021-06-08-numerique-gestion-de-crise.md`,
  )
  .action(
    async (
      file: string,
      opts: {
        replace?: boolean;
        pdf: boolean;
        templates?: string;
        json?: boolean;
        wait: number | false;
        dataDir: string;
        backend: BackendKind;
      },
    ) => {
      if (opts.backend === 'aws') return publishOnStack(file, opts);
      const backend = await localBackend(loadConfig(opts), { pdf: opts.pdf });
      try {
        const result = await publishRelease(file, backend, { replace: opts.replace === true });
        warn(result.notices);
        const index = backend.store.fileOf(siteKeys.index);
        if (opts.json) return print({ ...result, pressRoomIndex: index }, true);
        print([
          `${result.action === 'created' ? 'Published' : result.action === 'updated' ? 'Updated' : 'Replaced'} ${result.slug} (${result.state})`,
          result.url
            ? `  page        ${result.url}`
            : `  not in the public press room (${result.state}); \`pressroom archive link ${result.slug}\` gives signed links`,
          `  PDF         ${result.pdf.stored ? 'stored' : `skipped: ${result.pdf.reason}`}`,
          `  press room  ${index}`,
        ]);
      } finally {
        await backend.close();
      }
    },
  );
