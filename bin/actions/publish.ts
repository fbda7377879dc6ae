import { archiveKeys, stateOf } from '../../lambdas/core/archive/manifest.ts';
import { releaseDownloads, siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import {
  awaitOutcome,
  planUpload,
  snapshotOutcome,
  uploadPlan,
} from '../../lambdas/core/publication/upload.ts';
import type { PublishOptions } from '../commands/publish.ts';
import { loadConfig, localBackend, localOnly, openAwsBackend } from '../context.ts';
import { print, warn } from '../output.ts';

/**
 * `pressroom publish <publication>`: validates, renders and archives a publication in the
 * local store and updates the press room (with a PDF unless --no-pdf); with --backend aws,
 * uploads it for the stack's publish function instead (see publishOnStack).
 */
export async function publishPublication(file: string, opts: PublishOptions): Promise<void> {
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
  const slug = plan.publication.slug as string;
  const manifestKey = archiveKeys.manifest(slug);
  const before = await snapshotOutcome(aws.store, manifestKey, reportKey);
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
  const outcome = await awaitOutcome(
    aws.store,
    { manifestKey, reportKey, before },
    { timeoutMs: opts.wait * 1000 },
  );
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
      summary.formats.pdf
        ? `  PDF         ${state === 'public' ? `${site}releases/${slug}/${releaseDownloads.pdf}` : 'stored'}`
        : `  PDF         none: the function could not print it (its log says why); upload ${plan.key} again to print it`,
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
