import path from 'node:path';
import { replaceFolder } from '../../lambdas/adapters/output-folder.ts';
import { buildStaticSite, type StaticSiteReport } from '../../lambdas/core/archive/static-site.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import type { SiteBuildOptions } from '../commands/site.ts';
import { ConfigurationError, loadConfig, localBackend } from '../context.ts';
import { print } from '../output.ts';

/** Left in the folder `site build` writes: it only ever replaces a folder holding it. */
export const siteMarker = {
  name: '.pressroom-site',
  text: 'Written by `pressroom site build`; replaced as a whole by the next build.\n',
};

/** A site address on this machine: a preview, where http is fine. */
function isLocalPreview(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
}

/**
 * `pressroom site build --out <dir>`: writes everything public in the local store as static
 * files into `--out`, replaced as a whole (a missing or empty folder, or one holding
 * siteMarker). PRESSROOM_SITE_URL must be https, a local preview, or --allow-http given.
 */
export async function buildSite(opts: SiteBuildOptions): Promise<void> {
  const config = loadConfig(opts);
  const siteUrl = new URL(config.siteUrl);
  if (siteUrl.protocol !== 'https:' && !opts.allowHttp && !isLocalPreview(siteUrl)) {
    throw new ConfigurationError(
      `PRESSROOM_SITE_URL is ${config.siteUrl}: a press room on the web needs https (its feeds, sitemaps and emails link there). Set PRESSROOM_SITE_URL=https://press.example.org/, or pass --allow-http if the host really serves http only.`,
    );
  }
  const backend = await localBackend(config, { pdf: false });
  const out = path.resolve(opts.out);
  if (isInside(out, backend.store.root) || isInside(backend.store.root, out)) {
    throw new PressroomError(
      `--out ${opts.out} overlaps the store ${backend.store.root}: choose a folder outside it`,
    );
  }
  let report: StaticSiteReport | undefined;
  await replaceFolder(
    out,
    async (write) => {
      report = await buildStaticSite(backend, async (file) => write(file.path, await file.body()));
    },
    siteMarker,
  );
  if (!report) throw new Error('the site was not built');
  const r = report;
  if (opts.json) return print({ ...r, dir: out, siteUrl: config.siteUrl }, true);
  print([
    `Built the press room for ${config.siteUrl} into ${out}`,
    `  ${r.releases} release(s), ${r.issues} newsletter issue(s), ${r.withdrawn} withdrawn notice(s), ${r.files} file(s)`,
    `  headers     ${path.join(out, '_headers')} (Netlify, Cloudflare Pages; other hosts: docs/self-hosting.md)`,
    ...(r.downloads.length > 0
      ? [
          `  downloads   ${r.downloads.length} published file(s) must be served as downloads (the host must apply _headers)`,
        ]
      : []),
  ]);
  if (r.otherSiteUrl.length > 0) {
    process.stderr.write(
      `pressroom: ${r.otherSiteUrl.length} release(s) were rendered for another address (${[...new Set(r.otherSiteUrl.map((o) => o.siteUrl))].join(', ')}): their emails link there. Run \`pressroom archive rebuild\` with PRESSROOM_SITE_URL=${config.siteUrl}, then build again.\n`,
    );
  }
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
