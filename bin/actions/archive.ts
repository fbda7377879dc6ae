import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import { operator } from '../../lambdas/adapters/local-process.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { storeSourceFiles } from '../../lambdas/adapters/store-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import type { AlertCanceller } from '../../lambdas/core/alerts/release-alert.ts';
import { exportArchive } from '../../lambdas/core/archive/export.ts';
import type { LiftCancellation, LiftCanceller } from '../../lambdas/core/archive/lift.ts';
import { readManifest } from '../../lambdas/core/archive/manifest.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import {
  type PublishDeps,
  releaseDueEmbargoes,
  signedReleaseLinks,
  siteDeps,
  siteTop,
} from '../../lambdas/core/archive/publish.ts';
import { rebuildPressRoom } from '../../lambdas/core/archive/rebuild.ts';
import { withdrawRelease } from '../../lambdas/core/archive/withdraw.ts';
import { cancelCampaignRemotely } from '../../lambdas/core/campaigns/remote.ts';
import { showTime } from '../../lambdas/core/campaigns/time.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { uploadPrefix } from '../../lambdas/core/publication/upload.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import type {
  ArchiveExportOptions,
  ArchiveLinkOptions,
  ArchivePreviewOptions,
  ArchiveRebuildOptions,
  ArchiveRefreshOptions,
  ArchiveWithdrawOptions,
} from '../commands/archive.ts';
import { loadConfig, localBackend, localStore, openAwsBackend, signingSecret } from '../context.ts';
import type { BackendKind } from '../options.ts';
import { print } from '../output.ts';

/**
 * `pressroom archive link <slug>`: signed download links to a release's archived files
 * (one format or all), served by `pressroom serve` until they expire.
 */
export async function linkArchived(slug: string, opts: ArchiveLinkOptions): Promise<void> {
  const config = loadConfig(opts);
  const { store } = await localStore(config);
  const links = await signedReleaseLinks(store, slug, {
    format: opts.format,
    expiresInSeconds: opts.expires,
  });
  const expiresAt = new Date(Date.now() + opts.expires * 1000).toISOString();
  if (opts.json) return print({ slug, expiresAt, links }, true);
  print([
    `Signed links to ${slug}, valid until ${showTime(expiresAt, config.timeZone)} (served by \`pressroom serve\`):`,
    ...links.map((l) => `  ${l.format.padEnd(10)} ${l.url}`),
  ]);
}

/** `pressroom archive refresh`: publishes releases whose embargo has passed, and the pages. */
export async function refreshArchive(opts: ArchiveRefreshOptions): Promise<void> {
  const backend = await localBackend(loadConfig(opts), { pdf: false });
  const released = await releaseDueEmbargoes(backend);
  if (opts.json) return print({ released }, true);
  print(
    released.length
      ? [`Now public: ${released.join(', ')}`, `  press room  ${backend.store.fileOf(siteKeys.index)}`]
      : 'No embargo has passed since the last refresh.',
  );
}

/** `pressroom archive export --out <file.zip>`: the archive (or one year of it) as a ZIP. */
export async function exportArchiveZip(opts: ArchiveExportOptions): Promise<void> {
  if (opts.year !== undefined && !/^\d{4}$/.test(opts.year)) {
    throw new PressroomError(`--year must be a year such as 2021 (value: "${opts.year}")`);
  }
  const { store } = await localStore(loadConfig(opts));
  // A failed export leaves no partial ZIP behind.
  const result = await writeFileAtomically(opts.out, (out) =>
    exportArchive(store, out, opts.year === undefined ? {} : { year: opts.year }),
  );
  if (opts.json) return print({ ...result, file: opts.out }, true);
  print(`Exported ${result.releases} release(s), ${result.files} file(s), into ${opts.out}`);
}

/**
 * What withdraw and rebuild work with, on either backend. On the stack: its bucket, the
 * sources the publish function read there, and the press room's address, language and
 * title from its outputs, rendered here with the templates of this copy of pressroom.
 */
export async function archiveDeps(opts: {
  backend: BackendKind;
  dataDir?: string;
  templates?: string;
  pdf?: boolean;
}): Promise<{
  deps: PublishDeps & { lifts?: LiftCanceller; cancelAlert?: AlertCanceller };
  where: string;
  timeZone: string;
  close(): Promise<void>;
}> {
  const config = loadConfig(opts);
  if (opts.backend !== 'aws') {
    // loadConfig already took --templates into templatesDir.
    const backend = await localBackend(config, { pdf: opts.pdf !== false });
    return {
      deps: backend,
      where: backend.store.root,
      timeZone: config.timeZone,
      close: () => backend.close(),
    };
  }
  const aws = await openAwsBackend();
  const templates = await loadTemplateFiles(config.templatesDir);
  const site = {
    siteUrl: aws.outputs.PressRoomUrl,
    siteLang: aws.outputs.SiteLang ?? config.siteLang,
    // Not the workspace's organisation: the functions, which rewrite the same pages, do not
    // know it; the stack's SiteTitle names the site on AWS.
    siteTitle: aws.outputs.SiteTitle ?? config.siteTitle,
  };
  return {
    deps: {
      store: aws.store,
      files: storeSourceFiles(aws.store, { root: uploadPrefix }),
      renderer: createReleaseRenderer(templates),
      images: sharpImages(),
      ...siteDeps(templates, site),
      // No card painter: the publish function draws none (sharp is not in its bundle), and a
      // rebuild from here must give the same pages as it does (docs/templates.md).
      ...(aws.lifts && { lifts: aws.lifts }),
      // A waiting topic alert: its record cancelled and its one-time schedule deleted.
      cancelAlert: (name, now) =>
        cancelCampaignRemotely(name, { store: aws.store, scheduler: aws.scheduler }, now),
    },
    where: `s3://${aws.outputs.DataBucketName}`,
    timeZone: config.timeZone,
    close: async () => {},
  };
}

/** What became of the lift of a release withdrawn under its embargo, on the stack. */
function liftLine(lift: LiftCancellation): string {
  if (lift.outcome === 'failed')
    return `  embargo lift not deleted (${lift.reason}): it would fire, publish nothing and go; withdraw it again to try again`;
  return lift.outcome === 'deleted'
    ? `  embargo lift deleted (schedule ${lift.name})`
    : '  embargo lift none was waiting';
}

/**
 * `pressroom archive withdraw <slug> --reason <text>`: takes a release out of the public
 * press room (local store or stack), recording why, when and by whom; --purge deletes its
 * archived files too.
 */
export async function withdrawArchived(slug: string, opts: ArchiveWithdrawOptions): Promise<void> {
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
    const alerts = (result.alerts ?? []).map(
      (a) => `  alert        ${a.campaign} cancelled (it was waiting to go; topics: ${a.topics.join(', ')})`,
    );
    if (result.outcome === 'already') {
      return print([
        `${slug} was already withdrawn on ${when} by ${w.by} (${w.reason})${w.purgedAt ? '; its archive was purged' : ''}: nothing changed.`,
        ...alerts,
      ]);
    }
    print([
      `${result.outcome === 'purged' ? 'Withdrawn and purged' : 'Withdrawn'}: ${slug} (${result.title})`,
      `  recorded     ${when}, by ${w.by}: ${w.reason}`,
      // Recorded before but not done: cut short, or recorded before `doneAt` existed.
      ...(result.resumed ? ['  finished     press room rewritten, the withdrawal recorded before'] : []),
      '  press room   out of the lists, feeds and sitemaps; campaigns and newsletters refuse it',
      w.wasPublic
        ? `  its address  ${siteTop(deps.siteUrl)}releases/${slug}/ now says it was withdrawn`
        : '  its address  never was public: nothing is left there',
      result.outcome === 'purged'
        ? '  archive      its files are deleted; only the record is left'
        : `  archive      kept: \`pressroom archive link ${slug}\` still gives signed links`,
      ...(result.lift ? [liftLine(result.lift)] : []),
      ...alerts,
    ]);
  } finally {
    await close();
  }
}

/**
 * `pressroom archive rebuild [slug...]`: renders releases again from their archived sources
 * (local store or stack) and writes every press room page; exit 1 if one could not be.
 */
export async function rebuildArchive(slugs: string[], opts: ArchiveRebuildOptions): Promise<void> {
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
}

/**
 * `pressroom archive preview <slug>`: a link to the release's email filled for the sample
 * recipient, signed with the store's secret, that `pressroom serve` answers from this machine.
 */
export async function previewArchived(slug: string, opts: ArchivePreviewOptions): Promise<void> {
  const config = loadConfig(opts);
  const { store } = await localStore(config);
  await readManifest(store, slug);
  const signer = new PreviewSigner(await signingSecret(store.root));
  const url = signer.link(`http://127.0.0.1:${opts.port}`, slug, opts.expires);
  const expiresAt = new Date(Date.now() + opts.expires * 1000).toISOString();
  if (opts.json) return print({ slug, url, expiresAt }, true);
  print([
    `Preview of ${slug}, from this machine, while \`pressroom serve --port ${opts.port}\` runs:`,
    `  ${url}`,
    `  valid until ${showTime(expiresAt, config.timeZone)}`,
  ]);
}
