import { PressroomError } from '../../lambdas/core/errors.ts';
import {
  awaitOutcome,
  reportKeyOf,
  snapshotOutcome,
  type UploadPlan,
  uploadPlan,
} from '../../lambdas/core/publication/upload.ts';
import type { AwsBackend } from '../aws-backend.ts';
import { localOnly } from '../context.ts';
import { print } from '../output.ts';

/**
 * `publish` and `newsletter publish` with `--backend aws` refuse the options an upload has no
 * use for; `replaceAdvice` says what to do instead of `--replace`.
 */
export function refuseLocalPublishOptions(
  opts: { replace?: boolean; templates?: string },
  replaceAdvice: string,
): void {
  localOnly(opts.replace === true, '--replace', replaceAdvice);
  localOnly(
    opts.templates !== undefined,
    '--templates',
    'the publish function renders with the templates bundled at deploy: change templates/ and deploy again',
  );
}

/** What one upload is: its id in JSON output, where its manifest lands, what it is called. */
export interface StackUpload<M> {
  /** `{ slug }` or `{ id }`, first in the JSON output. */
  ids: Record<string, string>;
  manifestKey: string;
  /** "release" or "issue", in the message of a wait that ran out. */
  noun: string;
  /** The lines printed once the publish function has published it. */
  published(manifest: M): string[];
}

/**
 * Uploads a checked plan (attachments first, the `.md` last), then waits for the publish
 * function's outcome (`wait` seconds, or not at all): published, refused (exit 1) or still
 * pending (exit 4).
 */
export async function uploadAndAwait<M>(
  aws: AwsBackend,
  plan: UploadPlan,
  upload: StackUpload<M>,
  opts: { json?: boolean; wait: number | false },
): Promise<void> {
  const bucket = aws.outputs.DataBucketName;
  const reportKey = reportKeyOf(plan.key);
  const { manifestKey } = upload;
  const before = await snapshotOutcome(aws.store, manifestKey, reportKey);
  await uploadPlan(plan, aws.files, aws.store);
  const uploaded = plan.items.map((i) => `s3://${bucket}/${i.key}`);
  if (opts.wait === false) {
    if (opts.json) return print({ ...upload.ids, key: plan.key, uploaded, outcome: 'uploaded' }, true);
    return print([
      `Uploaded ${plan.key} (${plan.items.length} file(s)); the publish function takes it from here.`,
      ...uploaded.map((u) => `  ${u}`),
      `  problems, if any: s3://${bucket}/${reportKey}`,
    ]);
  }
  const outcome = await awaitOutcome<M>(
    aws.store,
    { manifestKey, reportKey, before },
    { timeoutMs: opts.wait * 1000 },
  );
  if (opts.json) print({ ...upload.ids, key: plan.key, uploaded, ...outcome }, true);
  else if (outcome.outcome === 'published') print(upload.published(outcome.manifest));
  if (outcome.outcome === 'rejected') {
    if (opts.json) process.exitCode = 1;
    else
      throw new PressroomError(
        `the publish function refused ${plan.key}; the archive is unchanged. ${outcome.report.message ?? 'No detail in the report.'}`,
      );
  }
  if (outcome.outcome === 'pending') {
    process.stderr.write(
      `pressroom: uploaded ${plan.key}, but no result after ${opts.wait} s: the publish function may still be working. See s3://${bucket}/${manifestKey} for the ${upload.noun}, and s3://${bucket}/${reportKey} for problems.\n`,
    );
    process.exitCode = 4;
  }
}
