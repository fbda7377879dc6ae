import { randomBytes } from 'node:crypto';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { draftIssue } from '../../lambdas/core/newsletter/draft.ts';
import { publishIssue, renderIssueFiles } from '../../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import { languages } from '../../lambdas/core/publication/schema.ts';
import { type LocalBackend, loadConfig, localBackend } from '../context.ts';
import { dataDirOption } from '../options.ts';
import { print, warn } from '../output.ts';

/** `pressroom newsletter render | publish | draft`: newsletter issues. */

const templatesOption = new Option(
  '--templates <dir>',
  'template folder laid out like templates/ (or PRESSROOM_TEMPLATES_DIR)',
);

/** What the newsletter commands need, from the local backend. */
function issueDeps(backend: LocalBackend) {
  return {
    files: backend.files,
    store: backend.store,
    renderer: createNewsletterRenderer(backend.templates),
    sampleRecipient: backend.sampleRecipient,
    siteUrl: backend.siteUrl,
    pressRoom: backend.pressRoom,
  };
}

const renderCommand = new Command('render')
  .description('Render a newsletter issue as an HTML email, a plain-text email, a web page and a preview')
  .argument('<issue.md>', 'the issue file (Markdown with YAML front matter)')
  .option('--out <dir>', 'output folder (default: ./out/newsletters/<id>/)')
  .addOption(templatesOption)
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Release items are pulled from the archive (--data-dir): publish the releases first. Writes
email.html and email.txt (recipient placeholders still in), page.html, preview.html and
preview.txt (filled for a sample recipient) and issue.json. The folder is replaced all at
once; on any problem nothing is written. Nothing is archived.

Example:
  $ pressroom newsletter render examples/newsletters/2024-03-lettre.md`,
  )
  .action(
    async (file: string, opts: { out?: string; templates?: string; json?: boolean; dataDir: string }) => {
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
    },
  );

const publishCommand = new Command('publish')
  .description('Validate, render and archive a newsletter issue, and update the press room')
  .argument('<issue.md>', 'the issue file (Markdown with YAML front matter)')
  .option('--replace', 'replace an issue with the same id that came from another file')
  .addOption(templatesOption)
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Publishing the same file again updates its issue in place. A public issue gets a page in
the press room's Newsletters section and an entry in its feeds; "visibility: private"
keeps it out of them. A campaign sends it with "newsletter: <id>".

Example:
  $ pressroom newsletter publish examples/newsletters/2024-03-lettre.md`,
  )
  .action(
    async (
      file: string,
      opts: { replace?: boolean; templates?: string; json?: boolean; dataDir: string },
    ) => {
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
    },
  );

const draftCommand = new Command('draft')
  .description('Write a starting issue file listing the public releases published since a date')
  .requiredOption('--since <YYYY-MM-DD>', 'list the releases dated on or after this day')
  .option('--out <file>', 'the issue file to write (default: ./newsletter-<today>.md)')
  .option('--force', 'overwrite the file if it exists')
  .addOption(
    new Option('--lang <lang>', 'language of the issue (default: PRESSROOM_SITE_LANG)').choices(languages),
  )
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
The file lists the public releases of the archive dated on or after --since, newest first,
and the publishers of the newest one. Its id is its file name. An existing file is never
overwritten without --force.

Example:
  $ pressroom newsletter draft --since 2024-03-01 --out newsletters/2024-04.md`,
  )
  .action(
    async (opts: {
      since: string;
      out?: string;
      force?: boolean;
      lang?: (typeof languages)[number];
      json?: boolean;
      dataDir: string;
    }) => {
      const config = loadConfig(opts);
      const backend = await localBackend(config, { pdf: false });
      try {
        const now = new Date();
        const out = opts.out ?? `newsletter-${now.toISOString().slice(0, 10)}.md`;
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
    },
  );

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

export const newsletterCommand = new Command('newsletter')
  .description('Newsletter issues: render, publish, draft')
  .addCommand(renderCommand)
  .addCommand(publishCommand)
  .addCommand(draftCommand);
