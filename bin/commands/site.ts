import { Command } from 'commander';
import { dataDirOption } from '../options.ts';

/** What `pressroom site build` is given. */
export interface SiteBuildOptions {
  out: string;
  allowHttp?: boolean;
  json?: boolean;
  dataDir?: string;
}

/** `pressroom site`: the commands' definitions (bin/actions/site.ts does the work). */
export function siteCommand(): Command {
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
    .action(async (opts: SiteBuildOptions) => (await import('../actions/site.ts')).buildSite(opts));

  return new Command('site')
    .description('The public press room as static files (`site build`)')
    .addCommand(build);
}
