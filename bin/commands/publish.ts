import { Command } from 'commander';
import { type BackendKind, backendOption, dataDirOption, noWaitOption, waitOption } from '../options.ts';

/** What `pressroom publish` is given. */
export interface PublishOptions {
  replace?: boolean;
  pdf: boolean;
  /** False with --no-alerts: no topic alert for this publish. */
  alerts: boolean;
  templates?: string;
  json?: boolean;
  wait: number | false;
  dataDir?: string;
  backend: BackendKind;
}

/** `pressroom publish`: the command's definition (bin/actions/publish.ts does the work). */
export function publishCommand(): Command {
  return new Command('publish')
    .description('Validate, render and archive a publication, and update the press room')
    .argument('<publication>', 'the publication file (Markdown with YAML front matter)')
    .option('--replace', 'replace a release with the same slug that came from another file')
    .option(
      '--no-pdf',
      'do not print a PDF (by default headless Chromium prints one: CHROMIUM_PATH, a system Chromium, or the one in @sparticuz/chromium)',
    )
    .option(
      '--no-alerts',
      "schedule no topic alert for this release (by default a release with the tags of an alert list's topics alerts its subscribers)",
    )
    .option('--templates <dir>', 'template folder laid out like templates/')
    .option('--json', 'print the result as JSON')
    .addOption(waitOption())
    .addOption(noWaitOption())
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Publishing the same file again updates its release in place. A release with an embargo in
the future, or "visibility: private", is archived but stays out of the public press room and
feeds (\`pressroom archive refresh\` publishes releases whose embargo has passed).

Topic alerts (docs/subscriptions.md): when a list of pressroom.yaml offers topics, a public
release with one of those tags schedules the campaign alert-<list>-<slug> to the subscribers
who confirmed one of them, a minute later or at the embargo's lift; \`pressroom serve\` or
\`pressroom run-due\` sends it. Publishing again never alerts twice.

With --backend aws the publication, its organisation files and its attachments are
uploaded under publications/<year>/ of the stack's bucket (the .md last), and the publish
function does the rest, topic alerts from the bucket's config/lists.yaml included (so
--no-alerts is refused); the command waits for the release's manifest to change or for the
error report <name>.errors.json to appear. Exit 1 on problems, 4 when --wait ran out.

Example:
  $ pressroom publish examples/publications/2021-06-08-numerique-gestion-de-crise.md`,
    )
    .action(async (file: string, opts: PublishOptions) =>
      (await import('../actions/publish.ts')).publishPublication(file, opts),
    );
}
