import path from 'node:path';
import { Command } from 'commander';
import { replaceFolder } from '../../lambdas/adapters/output-folder.ts';
import { buildStaticSite, type StaticSiteReport } from '../../lambdas/core/archive/static-site.ts';
import { PressroomError } from '../../lambdas/core/errors.ts';
import { ConfigurationError, loadConfig, localBackend } from '../context.ts';
import { dataDirOption } from '../options.ts';
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

const build = new Command('build')
  .description('Write the public press room as static files, for any static host')
  .requiredOption(
    '--out <dir>',
    'the folder to write (replaced as a whole; a folder pressroom did not write is refused)',
  )
  .option(
    '--allow-http',
    'accept an http:// PRESSROOM_SITE_URL (by default only https, or localhost for a preview)',
  )
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Everything public now: the home page, year and tag pages, each public release with its
downloads (PDF, email, text, attachments), the newsletters, the feeds, the sitemaps, and
anything else the press room holds (a search index). Embargoed, private and withdrawn
releases are left out; a release withdrawn after being public leaves a page saying so.
Feeds and sitemaps use PRESSROOM_SITE_URL, which must be https (or localhost).

It writes _headers (Netlify, Cloudflare Pages): pages carry their Content-Security-Policy,
and published files other than PDF, images and text must download. Other hosts need the
same headers: see docs/self-hosting.md (nginx, Caddy).

Example:
  $ PRESSROOM_SITE_URL=https://press.example.org/ pressroom site build --out public`,
  )
  .action(async (opts: { out: string; allowHttp?: boolean; json?: boolean; dataDir: string }) => {
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
  });

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

export const siteCommand = new Command('site')
  .description('The public press room as static files (`site build`)')
  .addCommand(build);
