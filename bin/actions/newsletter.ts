import { randomBytes } from 'node:crypto';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { showTime } from '../../lambdas/core/campaigns/time.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { type IssueManifest, newsletterKeys } from '../../lambdas/core/newsletter/catalog.ts';
import { draftIssue } from '../../lambdas/core/newsletter/draft.ts';
import { issuePageUrl, publishIssue, renderIssueFiles } from '../../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import { resolveIssue } from '../../lambdas/core/newsletter/resolve.ts';
import { planIssueUpload } from '../../lambdas/core/publication/upload.ts';
import type {
  NewsletterDraftOptions,
  NewsletterPublishOptions,
  NewsletterRenderOptions,
} from '../commands/newsletter.ts';
import { type LocalBackend, loadConfig, localBackend, openAwsBackend } from '../context.ts';
import { print, warn } from '../output.ts';
import { refuseLocalPublishOptions, uploadAndAwait } from './stack-upload.ts';

/** What the newsletter commands need, from the local backend. */
export function issueDeps(backend: LocalBackend) {
  return {
    files: backend.files,
    store: backend.store,
    renderer: createNewsletterRenderer(backend.templates),
    sampleRecipient: backend.sampleRecipient,
    siteUrl: backend.siteUrl,
    pressRoom: backend.pressRoom,
  };
}

/**
 * `pressroom newsletter render`: renders an issue (emails, page, previews, issue.json) into a
 * folder replaced all at once; nothing is archived.
 */
export async function renderNewsletter(file: string, opts: NewsletterRenderOptions): Promise<void> {
  const backend = await localBackend(loadConfig(opts), { pdf: false });
  try {
    const { issue, files, notices } = await renderIssueFiles(file, issueDeps(backend));
    warn(notices);
    const dir = opts.out ?? path.join('out', 'newsletters', issue.id);
    const written = await writeFolderAtomically(dir, files);
    const result = { id: issue.id, dir, files: written };
    print(
      opts.json ? result : [`Rendered ${issue.id} into ${dir}/`, ...written.map((f) => `  ${f}`)],
      opts.json,
    );
  } finally {
    await backend.close();
  }
}

/**
 * `pressroom newsletter publish`: validates, renders and archives an issue, and updates the
 * press room (a public issue's page and feeds).
 */
export async function publishNewsletter(file: string, opts: NewsletterPublishOptions): Promise<void> {
  if (opts.backend === 'aws') return publishNewsletterOnStack(file, opts);
  const backend = await localBackend(loadConfig(opts), { pdf: false });
  try {
    const result = await publishIssue(file, issueDeps(backend), { replace: opts.replace === true });
    warn(result.notices);
    const index = backend.store.fileOf(siteKeys.newsletters);
    if (opts.json) return print({ ...result, newslettersIndex: index }, true);
    print([
      `${result.action === 'created' ? 'Published' : result.action === 'updated' ? 'Updated' : 'Replaced'} newsletter ${result.id} (${result.state})`,
      result.url
        ? `  page         ${result.url}`
        : '  not in the public press room (private); a campaign can still send it',
      `  releases     ${result.releases.length ? result.releases.join(', ') : 'none'}`,
      ...(result.url ? [`  newsletters  ${index}`] : []),
      `  send it with a campaign file holding "newsletter: ${result.id}"`,
    ]);
  } finally {
    await backend.close();
  }
}

/**
 * `newsletter publish --backend aws`: the issue is checked here (its release items against the
 * stack's archive), uploaded with its organisation files under publications/newsletters/,
 * then the command waits for the publish function's result, as `publish --backend aws` does.
 */
async function publishNewsletterOnStack(file: string, opts: NewsletterPublishOptions): Promise<void> {
  refuseLocalPublishOptions(opts, 'uploads have no --replace: give the issue another "id" (or file name)');
  const aws = await openAwsBackend();
  const plan = await planIssueUpload(file, aws.files, async (loaded) => {
    await resolveIssue(loaded, { store: aws.store, siteUrl: aws.outputs.PressRoomUrl, now: new Date() });
  });
  warn(plan.notices);
  await uploadAndAwait<IssueManifest>(
    aws,
    plan,
    {
      ids: { id: plan.id },
      manifestKey: newsletterKeys.manifest(plan.id),
      noun: 'issue',
      published: ({ summary }) => [
        `Published newsletter ${plan.id} (${summary.visibility}) from ${plan.key}`,
        summary.visibility === 'public'
          ? `  page         ${issuePageUrl(aws.outputs.PressRoomUrl, plan.id)}`
          : '  not in the public press room (private); a campaign can still send it',
        `  releases     ${summary.releases.length ? summary.releases.join(', ') : 'none'}`,
        `  send it with a campaign file holding "newsletter: ${plan.id}" (pressroom send --backend aws)`,
      ],
    },
    opts,
  );
}

/**
 * `pressroom newsletter draft`: writes a starting issue file listing the public releases
 * since a date; an existing file is kept unless `--force`.
 */
export async function draftNewsletter(opts: NewsletterDraftOptions): Promise<void> {
  const config = loadConfig(opts);
  const backend = await localBackend(config, { pdf: false });
  try {
    const now = new Date();
    // Today in the workspace's zone: a draft made at 00:30 in Paris is named after that day.
    const out = opts.out ?? `newsletter-${showTime(now, config.timeZone).slice(0, 10)}.md`;
    const draft = await draftIssue(
      { store: backend.store, files: backend.files, locales: backend.templates.locales },
      { since: opts.since, now, lang: opts.lang ?? config.siteLang, outFile: out },
    );
    await writeNewFile(out, draft.text, opts.force === true);
    if (opts.json) return print({ file: out, releases: draft.releases }, true);
    print([
      `Wrote ${out}: ${draft.releases.length} release(s) since ${opts.since}`,
      ...draft.releases.map((r) => `  ${r.date}  ${r.slug}`),
      `Edit it (intro, order, inline items, events), then: pressroom newsletter render ${out}`,
    ]);
  } finally {
    await backend.close();
  }
}

/**
 * Writes a file whole: into a temporary file beside it, then linked into place (refused when
 * the file exists) or, with `force`, renamed over it.
 */
async function writeNewFile(file: string, text: string, force: boolean): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await writeFile(temp, text, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    throw new PressroomError(
      `cannot write ${file}: ${error.code === 'ENOENT' ? 'its folder does not exist' : error.message}`,
      { cause: error },
    );
  });
  try {
    if (force) await rename(temp, file);
    else {
      await link(temp, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        throw new PressroomError(
          `${file} already exists: nothing was written. Choose another --out, or add --force to overwrite it`,
        );
      });
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}
