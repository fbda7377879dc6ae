import { Command, InvalidArgumentError } from 'commander';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/** What `pressroom archive list` is given. */
export interface ArchiveListOptions {
  json?: boolean;
  dataDir?: string;
}

/** What `pressroom archive link` is given. */
export interface ArchiveLinkOptions {
  expires: number;
  format: string;
  json?: boolean;
  dataDir?: string;
}

/** What `pressroom archive refresh` is given. */
export interface ArchiveRefreshOptions {
  json?: boolean;
  dataDir?: string;
}

/** What `pressroom archive export` is given. */
export interface ArchiveExportOptions {
  out: string;
  year?: string;
  json?: boolean;
  dataDir?: string;
}

/** What `pressroom archive withdraw` is given. */
export interface ArchiveWithdrawOptions {
  reason: string;
  purge?: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom archive rebuild` is given. */
export interface ArchiveRebuildOptions {
  templates?: string;
  pdf: boolean;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom archive preview` is given. */
export interface ArchivePreviewOptions {
  port: number;
  expires: number;
  json?: boolean;
  dataDir?: string;
}

/**
 * The formats `archive link --format` offers, for its help: linkFormats of
 * lambdas/core/archive/publish.ts, which checks the value (tests/unit/archive-command.test.ts
 * keeps the two the same). Written out so that the help loads no core module.
 */
export const linkFormatNames = ['page', 'email', 'text', 'pdf', 'source'] as const;

/** `90s`, `15m`, `12h`, `7d` → seconds; signed links last at most 7 days, as with S3. */
export function parseDuration(value: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(value.trim());
  const units = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
  const seconds = match ? Number(match[1]) * units[match[2] as keyof typeof units] : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 7 * 86_400) {
    throw new InvalidArgumentError('give a duration from 1s to 7d, such as 90m, 12h or 7d');
  }
  return seconds;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('give a port number from 1 to 65535');
  return n;
}

/** `pressroom archive`: the commands' definitions (bin/actions/archive.ts does the work). */
export function archiveCommand(): Command {
  const list = new Command('list')
    .description('List the archived releases, newest first')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .action(async (opts: ArchiveListOptions) =>
      (await import('../actions/archive-list.ts')).listArchive(opts),
    );

  const link = new Command('link')
    .description('Print signed download links to a release (works for private and embargoed releases)')
    .argument('<slug>', 'the release, as `archive list` shows it')
    .option(
      '--expires <duration>',
      'how long the links work: 90m, 12h, 7d (at most 7d)',
      parseDuration,
      7 * 86_400,
    )
    .option('--format <format>', `one of ${[...linkFormatNames, 'all'].join(', ')}`, 'all')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .action(async (slug: string, opts: ArchiveLinkOptions) =>
      (await import('../actions/archive.ts')).linkArchived(slug, opts),
    );

  const refresh = new Command('refresh')
    .description('Publish releases whose embargo has passed, and regenerate the press room pages')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .action(async (opts: ArchiveRefreshOptions) =>
      (await import('../actions/archive.ts')).refreshArchive(opts),
    );

  const exportZip = new Command('export')
    .description('Write a ZIP of the archive (all formats and attachments) with an index.csv manifest')
    .requiredOption('--out <file.zip>', 'the ZIP file to write')
    .option('--year <yyyy>', 'only the releases of that year')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .action(async (opts: ArchiveExportOptions) =>
      (await import('../actions/archive.ts')).exportArchiveZip(opts),
    );

  const withdraw = new Command('withdraw')
    .description(
      'Take a release out of the public press room, feeds and sitemaps, keeping the private archive',
    )
    .argument('<slug>', 'the release, as `archive list` shows it')
    .requiredOption(
      '--reason <text>',
      'why (recorded in the archive with when and by whom; never shown publicly)',
    )
    .option(
      '--purge',
      'delete its archived files too (source, email, page, PDF, attachments); only the record stays',
    )
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
A withdrawn release leaves the home page, its year and tag pages, the feeds and the
sitemaps at once. If it was public, its address shows a short page saying it was withdrawn
(\`pressroom serve\` answers 410 Gone for it and its files). Campaigns refuse to send it and
newsletters to link to it; its topic alert, if still waiting to go, is cancelled (on the
stack, its schedule deleted). \`archive list\` shows it as withdrawn; \`archive link\` still
gives signed links to its archived files, unless --purge deleted them. Running the same
withdraw again finishes one that was cut short (the command killed, a store write that
failed). Publishing the same slug again is refused unless --replace, which brings it back.

Example:
  $ pressroom archive withdraw open-data-barometer-2024 --reason "figures corrected, see the new release"`,
    )
    .action(async (slug: string, opts: ArchiveWithdrawOptions) =>
      (await import('../actions/archive.ts')).withdrawArchived(slug, opts),
    );

  const rebuild = new Command('rebuild')
    .description('Render every release again from its archived source, and every press room page')
    .argument('[slug...]', 'only these releases (their list pages are regenerated all the same)')
    .option('--templates <dir>', 'template folder laid out like templates/')
    .option(
      '--no-pdf',
      'keep the archived PDFs as they are (by default one is printed again when its page changed)',
    )
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
After a change of templates, of an organisation file or of PRESSROOM_SITE_URL: each release
is rendered again from the Markdown and attachments archived when it was published, with
the current templates and organisation files (found where the publication was). A release
whose files come out the same is left alone; one that changed gets a new version, switched
in whole as a publish does, so a failure leaves it as it was. Publication dates stay.
Then the home page, year and tag pages, feeds and sitemaps are written again. Withdrawn
releases are left as they are; newsletter issues are not re-rendered (publish them again).

With --backend aws the sources are those the publish function read in the bucket
(publications/...), the press room's address, language and title come from the stack's
outputs, and the templates are this copy's (deploy the same ones). PDFs are kept as they are
there. Exit 1 when a release could not be rebuilt (the others are).`,
    )
    .action(async (slugs: string[], opts: ArchiveRebuildOptions) =>
      (await import('../actions/archive.ts')).rebuildArchive(slugs, opts),
    );

  const preview = new Command('preview')
    .description("Print a link to a release's email, filled for the sample recipient, on `pressroom serve`")
    .argument('<slug>', 'the release, as `archive list` shows it')
    .option('--port <port>', 'the port `pressroom serve` listens on', port, 3000)
    .option(
      '--expires <duration>',
      'how long the link works: 90m, 12h, 7d (at most 7d)',
      parseDuration,
      86_400,
    )
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addHelpText(
      'after',
      `
Previews show private and embargoed releases too, so the server answers them only to
requests from this machine (loopback, and through no proxy) that carry the link's token,
signed with the store's secret: 404 otherwise.`,
    )
    .action(async (slug: string, opts: ArchivePreviewOptions) =>
      (await import('../actions/archive.ts')).previewArchived(slug, opts),
    );

  return new Command('archive')
    .description(
      'The archive of published releases: list, signed links, previews, embargo refresh, export, withdraw, rebuild',
    )
    .addCommand(list)
    .addCommand(link)
    .addCommand(preview)
    .addCommand(refresh)
    .addCommand(exportZip)
    .addCommand(withdraw)
    .addCommand(rebuild);
}
