import { Command, Option } from 'commander';
// languages.ts imports nothing: light enough for the definition.
import { type Language, languages } from '../../lambdas/core/publication/languages.ts';
import { type BackendKind, backendOption, dataDirOption, noWaitOption, waitOption } from '../options.ts';

/** What `pressroom newsletter render` is given. */
export interface NewsletterRenderOptions {
  out?: string;
  templates?: string;
  json?: boolean;
  dataDir?: string;
}

/** What `pressroom newsletter publish` is given. */
export interface NewsletterPublishOptions {
  replace?: boolean;
  templates?: string;
  json?: boolean;
  wait: number | false;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom newsletter draft` is given. */
export interface NewsletterDraftOptions {
  since: string;
  out?: string;
  force?: boolean;
  lang?: Language;
  json?: boolean;
  dataDir?: string;
}

/** The action module, loaded when a newsletter command runs. */
const actions = () => import('../actions/newsletter.ts');

/**
 * `pressroom newsletter render | publish | draft`: newsletter issues (bin/actions/newsletter.ts
 * does the work). A new command each call.
 */
export function newsletterCommand(): Command {
  const templatesOption = () =>
    new Option('--templates <dir>', 'template folder laid out like templates/ (or PRESSROOM_TEMPLATES_DIR)');

  const renderCommand = new Command('render')
    .description('Render a newsletter issue as an HTML email, a plain-text email, a web page and a preview')
    .argument('<issue.md>', 'the issue file (Markdown with YAML front matter)')
    .option('--out <dir>', 'output folder (default: ./out/newsletters/<id>/)')
    .addOption(templatesOption())
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
    .action(async (file: string, opts: NewsletterRenderOptions) =>
      (await actions()).renderNewsletter(file, opts),
    );

  const publishCommand = new Command('publish')
    .description('Validate, render and archive a newsletter issue, and update the press room')
    .argument('<issue.md>', 'the issue file (Markdown with YAML front matter)')
    .option('--replace', 'replace an issue with the same id that came from another file')
    .addOption(templatesOption())
    .option('--json', 'print the result as JSON')
    .addOption(waitOption())
    .addOption(noWaitOption())
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Publishing the same file again updates its issue in place. A public issue gets a page in
the press room's Newsletters section and an entry in its feeds; "visibility: private"
keeps it out of them. A campaign sends it with "newsletter: <id>".

With --backend aws the issue (checked here first, its releases against the stack's archive)
and its organisation files are uploaded under publications/newsletters/ of the stack's
bucket, and the publish function does the rest; the command waits for the issue's manifest
to change or for the error report <name>.errors.json to appear. Exit 1 on problems, 4 when
--wait ran out.

Example:
  $ pressroom newsletter publish examples/newsletters/2024-03-lettre.md`,
    )
    .action(async (file: string, opts: NewsletterPublishOptions) =>
      (await actions()).publishNewsletter(file, opts),
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
    .action(async (opts: NewsletterDraftOptions) => (await actions()).draftNewsletter(opts));

  return new Command('newsletter')
    .description('Newsletter issues: render, publish, draft')
    .addCommand(renderCommand)
    .addCommand(publishCommand)
    .addCommand(draftCommand);
}
