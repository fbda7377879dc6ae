import { Command, InvalidArgumentError } from 'commander';
import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { catalogYears, readYear } from '../../lambdas/core/archive/catalog.ts';
import { exportArchive } from '../../lambdas/core/archive/export.ts';
import { stateOf } from '../../lambdas/core/archive/manifest.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { linkFormats, releaseDueEmbargoes, signedReleaseLinks } from '../../lambdas/core/archive/publish.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { dataDirOption, loadConfig, localBackend } from '../context.ts';
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

export const archiveCommand = new Command('archive')
  .description('The archive of published releases: list, signed links, embargo refresh, export')
  .addCommand(list)
  .addCommand(link)
  .addCommand(refresh)
  .addCommand(exportZip);
