import { hostname, userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { storeSourceFiles } from '../../lambdas/adapters/store-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { catalogYears, readYear } from '../../lambdas/core/archive/catalog.ts';
import { exportArchive } from '../../lambdas/core/archive/export.ts';
import { readManifest, stateOf } from '../../lambdas/core/archive/manifest.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import {
  linkFormats,
  type PublishDeps,
  releaseDueEmbargoes,
  signedReleaseLinks,
  siteDeps,
  siteTop,
} from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { showTime } from '../../lambdas/core/campaigns/time.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { uploadPrefix } from '../../lambdas/core/publication/upload.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { loadConfig, localBackend, openAwsBackend, signingSecret } from '../context.ts';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';
import { print } from '../output.ts';

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

const list = new Command('list')
  .description('List the archived releases, newest first')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .action(async (opts: { json?: boolean; dataDir: string }) => {
    const backend = await localBackend(loadConfig(opts), { pdf: false });
    const now = new Date();
    const rows = [];
    for (const year of await catalogYears(backend.store)) {
      for (const r of await readYear(backend.store, year)) {
        rows.push({
          slug: r.slug,
          date: r.date,
          title: r.title,
          visibility: stateOf(r, now),
          ...(r.embargo && { embargo: r.embargo }),
          formats: [
            'page',
            'email',
            'text',
            ...(r.formats.pdf ? ['pdf'] : []),
            ...r.formats.attachments.map((a) => a.file),
          ],
        });
      }
    }
    if (opts.json) return print(rows, true);
    if (rows.length === 0) return print('No releases yet: `pressroom publish <file.md>` adds one.');
    print(
      rows.map(
        (r) =>
          `${r.date}  ${r.visibility.padEnd(9)}  ${r.slug}\n            ${r.title}\n            ${r.formats.join(', ')}`,
      ),
    );
  });

const link = new Command('link')
  .description('Print signed download links to a release (works for private and embargoed releases)')
  .argument('<slug>', 'the release, as `archive list` shows it')
  .option(
    '--expires <duration>',
    'how long the links work: 90m, 12h, 7d (at most 7d)',
    parseDuration,
    7 * 86_400,
  )
  .option('--format <format>', `one of ${[...linkFormats, 'all'].join(', ')}`, 'all')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .action(
    async (slug: string, opts: { expires: number; format: string; json?: boolean; dataDir: string }) => {
      const backend = await localBackend(loadConfig(opts), { pdf: false });
      const links = await signedReleaseLinks(backend.store, slug, {
        format: opts.format,
        expiresInSeconds: opts.expires,
      });
      const expiresAt = new Date(Date.now() + opts.expires * 1000).toISOString();
      if (opts.json) return print({ slug, expiresAt, links }, true);
      print([
        `Signed links to ${slug}, valid until ${expiresAt} (served by \`pressroom serve\`):`,
        ...links.map((l) => `  ${l.format.padEnd(10)} ${l.url}`),
      ]);
    },
  );

const refresh = new Command('refresh')
  .description('Publish releases whose embargo has passed, and regenerate the press room pages')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .action(async (opts: { json?: boolean; dataDir: string }) => {
    const backend = await localBackend(loadConfig(opts), { pdf: false });
    const released = await releaseDueEmbargoes(backend);
    if (opts.json) return print({ released }, true);
    print(
      released.length
        ? [`Now public: ${released.join(', ')}`, `  press room  ${backend.store.fileOf(siteKeys.index)}`]
        : 'No embargo has passed since the last refresh.',
    );
  });

const exportZip = new Command('export')
  .description('Write a ZIP of the archive (all formats and attachments) with an index.csv manifest')
  .requiredOption('--out <file.zip>', 'the ZIP file to write')
  .option('--year <yyyy>', 'only the releases of that year')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .action(async (opts: { out: string; year?: string; json?: boolean; dataDir: string }) => {
    if (opts.year !== undefined && !/^\d{4}$/.test(opts.year)) {
      throw new PressroomError(`--year must be a year such as 2021 (value: "${opts.year}")`);
    }
    const backend = await localBackend(loadConfig(opts), { pdf: false });
    // A failed export leaves no partial ZIP behind.
    const result = await writeFileAtomically(opts.out, (out) =>
      exportArchive(backend.store, out, opts.year === undefined ? {} : { year: opts.year }),
    );
    if (opts.json) return print({ ...result, file: opts.out }, true);
    print(`Exported ${result.releases} release(s), ${result.files} file(s), into ${opts.out}`);
  });

/**
 * What withdraw and rebuild work with, on either backend. On the stack: its bucket, the
 * sources the publish function read there, and the press room's address, language and
 * title from its outputs, rendered here with the templates of this copy of pressroom.
 */
async function archiveDeps(opts: {
  backend: BackendKind;
  dataDir: string;
  templates?: string;
  pdf?: boolean;
}): Promise<{ deps: PublishDeps; where: string; timeZone: string; close(): Promise<void> }> {
  const config = loadConfig(opts);
  if (opts.backend !== 'aws') {
    const backend = await localBackend(
      opts.templates ? { ...config, templatesDir: opts.templates } : config,
      {
        pdf: opts.pdf !== false,
      },
    );
    return {
      deps: backend,
      where: backend.store.root,
      timeZone: config.timeZone,
      close: () => backend.close(),
    };
  }
  const aws = await openAwsBackend();
  const templates = await loadTemplateFiles(opts.templates ?? config.templatesDir);
  const site = {
    siteUrl: aws.outputs.PressRoomUrl,
    siteLang: aws.outputs.SiteLang ?? config.siteLang,
    siteTitle: aws.outputs.SiteTitle ?? config.siteTitle,
  };
  return {
    deps: {
      store: aws.store,
      files: storeSourceFiles(aws.store, { root: uploadPrefix }),
      renderer: createReleaseRenderer(templates),
      ...siteDeps(templates, site),
    },
    where: `s3://${aws.outputs.DataBucketName}`,
    timeZone: config.timeZone,
    close: async () => {},
  };
}

/** Who runs the command, for the archive's records: `user@host`. */
function operator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No user entry (some containers): the host still says where it came from.
  }
  return `${user}@${hostname()}`;
}

const withdraw = new Command('withdraw')
  .description('Take a release out of the public press room, feeds and sitemaps, keeping the private archive')
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
newsletters to link to it. \`archive list\` shows it as withdrawn; \`archive link\` still
gives signed links to its archived files, unless --purge deleted them. Publishing the same
slug again is refused unless --replace, which brings it back.

Example:
  $ pressroom archive withdraw open-data-barometer-2024 --reason "figures corrected, see the new release"`,
  )
  .action(
    async (
      slug: string,
      opts: { reason: string; purge?: boolean; json?: boolean; dataDir: string; backend: BackendKind },
    ) => {
      const { deps, where, timeZone, close } = await archiveDeps({ ...opts, pdf: false });
      try {
        const result = await withdrawRelease(
          slug,
          { reason: opts.reason, by: operator(), ...(opts.purge && { purge: true }) },
          deps,
        );
        if (opts.json) return print({ ...result, store: where }, true);
        const w = result.withdrawal;
        const when = showTime(w.at, timeZone);
        if (result.outcome === 'already') {
          return print(
            `${slug} was already withdrawn on ${when} by ${w.by} (${w.reason})${w.purgedAt ? '; its archive was purged' : ''}: nothing changed.`,
          );
        }
        print([
          `${result.outcome === 'purged' ? 'Withdrawn and purged' : 'Withdrawn'}: ${slug} (${result.title})`,
          `  recorded     ${when}, by ${w.by}: ${w.reason}`,
          '  press room   out of the lists, feeds and sitemaps; campaigns and newsletters refuse it',
          w.wasPublic
            ? `  its address  ${siteTop(deps.siteUrl)}releases/${slug}/ now says it was withdrawn`
            : '  its address  never was public: nothing is left there',
          result.outcome === 'purged'
            ? '  archive      its files are deleted; only the record is left'
            : `  archive      kept: \`pressroom archive link ${slug}\` still gives signed links`,
        ]);
      } finally {
        await close();
      }
    },
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
  .action(
    async (
      slugs: string[],
      opts: { templates?: string; pdf: boolean; json?: boolean; dataDir: string; backend: BackendKind },
    ) => {
      const { deps, where, close } = await archiveDeps({
        ...opts,
        pdf: opts.pdf && opts.backend !== 'aws',
      });
      try {
        const report = await rebuildPressRoom(deps, { slugs });
        const failed = report.releases.filter((r) => r.outcome === 'failed');
        if (failed.length > 0) process.exitCode = 1;
        if (opts.json) return print({ ...report, store: where }, true);
        const count = (outcome: string) => report.releases.filter((r) => r.outcome === outcome).length;
        print([
          `Rebuilt the press room of ${where} from the archived sources:`,
          ...report.releases.map((r) => {
            const detail =
              r.outcome === 'changed'
                ? `${(r.changed ?? []).join(', ')}${r.pdf === 'printed' ? ' (PDF printed again)' : r.pdf === 'kept-stale' ? ' (its PDF is kept from before: print it again by rebuilding with a browser, without --no-pdf)' : ''}`
                : (r.reason ?? '');
            return `  ${r.outcome.padEnd(9)}  ${r.slug}${detail ? `\n             ${detail}` : ''}`;
          }),
          `${count('changed')} changed, ${count('unchanged')} unchanged, ${count('skipped')} withdrawn, ${failed.length} failed; ${report.siteObjectsWritten} press room object(s) written`,
        ]);
        if (failed.length > 0)
          process.stderr.write(
            `pressroom: ${failed.length} release(s) could not be rebuilt and were left as they were: ${failed.map((f) => f.slug).join(', ')}\n`,
          );
      } finally {
        await close();
      }
    },
  );

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('give a port number from 1 to 65535');
  return n;
}

const preview = new Command('preview')
  .description("Print a link to a release's email, filled for the sample recipient, on `pressroom serve`")
  .argument('<slug>', 'the release, as `archive list` shows it')
  .option('--port <port>', 'the port `pressroom serve` listens on', port, 3000)
  .option('--expires <duration>', 'how long the link works: 90m, 12h, 7d (at most 7d)', parseDuration, 86_400)
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Previews show private and embargoed releases too, so the server answers them only to
requests from this machine (loopback, and through no proxy) that carry the link's token,
signed with the store's secret: 404 otherwise.`,
  )
  .action(async (slug: string, opts: { port: number; expires: number; json?: boolean; dataDir: string }) => {
    const backend = await localBackend(loadConfig(opts), { pdf: false });
    await readManifest(backend.store, slug);
    const signer = new PreviewSigner(await signingSecret(backend.store.root));
    const url = signer.link(`http://127.0.0.1:${opts.port}`, slug, opts.expires);
    const expiresAt = new Date(Date.now() + opts.expires * 1000).toISOString();
    if (opts.json) return print({ slug, url, expiresAt }, true);
    print([
      `Preview of ${slug}, from this machine, while \`pressroom serve --port ${opts.port}\` runs:`,
      `  ${url}`,
      `  valid until ${showTime(expiresAt, backend.config.timeZone)}`,
    ]);
  });

export const archiveCommand = new Command('archive')
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
