import { writeFileAtomically } from '../../lambdas/adapters/file-output.ts';
import {
  addCoverage,
  type CoverageRow,
  coverageCsv,
  listCoverage,
  parseCoverageInput,
  removeCoverage,
} from '../../lambdas/core/archive/coverage.ts';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { type ReleaseRebuild, refreshReleaseCoverage } from '../../lambdas/core/archive/rebuild.ts';
import type { CoverageAddOptions, CoverageListOptions, CoverageRemoveOptions } from '../commands/coverage.ts';
import { print } from '../output.ts';
import { archiveDeps } from './archive.ts';

/** `pressroom coverage add <slug> <url>`: records the article, then renders the release's page again. */
export async function addCoverageArticle(slug: string, url: string, opts: CoverageAddOptions): Promise<void> {
  const input = {
    url,
    outlet: opts.outlet,
    date: opts.date,
    ...(opts.title !== undefined && { title: opts.title }),
    ...(opts.language !== undefined && { language: opts.language }),
  };
  // Checked before the store is opened: a wrong field changes nothing anywhere.
  parseCoverageInput(input);
  const { deps, where, close } = await archiveDeps({ ...opts, pdf: false });
  try {
    const now = (deps.clock ?? (() => new Date()))();
    const { action, article } = await addCoverage(deps.store, slug, input, now);
    const page = await refreshReleaseCoverage(slug, deps);
    report(page.release);
    if (opts.json) return print({ action, slug, article, page: page.release, store: where }, true);
    print([
      `${action === 'added' ? 'Added' : 'Updated'} ${article.url} (${article.outlet}, ${article.date}) to the coverage of ${slug}`,
      pageLine(page.release, where),
    ]);
  } finally {
    await close();
  }
}

/** `pressroom coverage remove <slug> <url>`. */
export async function removeCoverageArticle(
  slug: string,
  url: string,
  opts: CoverageRemoveOptions,
): Promise<void> {
  const { deps, where, close } = await archiveDeps({ ...opts, pdf: false });
  try {
    const article = await removeCoverage(deps.store, slug, url);
    const page = await refreshReleaseCoverage(slug, deps);
    report(page.release);
    if (opts.json) return print({ action: 'removed', slug, article, page: page.release, store: where }, true);
    print([`Removed ${article.url} from the coverage of ${slug}`, pageLine(page.release, where)]);
  } finally {
    await close();
  }
}

/** `pressroom coverage list [slug] [--csv FILE]`. */
export async function listCoverageArticles(
  slug: string | undefined,
  opts: CoverageListOptions,
): Promise<void> {
  const { deps, close } = await archiveDeps({ ...opts, pdf: false });
  try {
    const rows = await listCoverage(deps.store, slug);
    if (opts.csv !== undefined) {
      const csv = opts.csv;
      await writeFileAtomically(csv, async (out) => {
        out.end(coverageCsv(rows));
      });
      if (opts.json) return print({ articles: rows.length, file: csv }, true);
      return print(`Wrote ${rows.length} article(s) into ${csv}`);
    }
    if (opts.json) return print({ articles: rows }, true);
    print(rows.length === 0 ? 'No article recorded.' : rows.map(line));
  } finally {
    await close();
  }
}

function line(r: CoverageRow): string {
  return `${r.date}  ${r.outlet}${r.title ? ` – ${r.title}` : ''}\n            ${r.url}\n            about ${r.slug}`;
}

/** A release whose page could not be rendered again: the article is recorded all the same. */
function report(release: ReleaseRebuild): void {
  if (release.outcome !== 'failed') return;
  process.exitCode = 1;
  process.stderr.write(
    `pressroom: the coverage is recorded, but the page of ${release.slug} could not be rendered again: ${release.reason}. Fix that, then run \`pressroom archive rebuild ${release.slug}\`.\n`,
  );
}

function pageLine(release: ReleaseRebuild, where: string): string {
  if (release.outcome === 'skipped')
    return `  its page     not shown (the release was ${release.reason ?? 'withdrawn'})`;
  if (release.outcome === 'failed') return '  its page     not rendered again (see below)';
  return `  its page     ${release.outcome === 'changed' ? 'rendered again' : 'unchanged'} in ${where}; coverage page ${siteKeys.coverage}`;
}
