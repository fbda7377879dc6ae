import path from 'node:path';
import { Command } from 'commander';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { renderReleaseFiles } from '../../lambdas/core/release/render-release.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { loadConfig } from '../context.ts';
import { dataDirOption } from '../options.ts';
import { print, warn } from '../output.ts';

/**
 * Renders publications into folders (`pressroom render`; the browser tests use it too).
 * Images get the absolute URL they will have once published under `siteUrl`: emails are
 * read anywhere, so never a relative one.
 */
export async function renderToFolders(
  publications: string[],
  options: { out?: string; outRoot?: string; templates?: string; siteUrl?: string; maxFileSize?: number },
): Promise<{ slug: string; dir: string; files: string[]; notices: string[] }[]> {
  const templates = await loadTemplateFiles(options.templates ?? defaultTemplatesDir);
  const renderer = createReleaseRenderer(templates);
  const files = localFiles(options.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {});
  const deps = { files, renderer, sampleRecipient: templates.sampleRecipient };
  const siteUrl = options.siteUrl ?? 'http://localhost:3000/';
  // Render everything first: a bad publication stops the run before anything is written.
  const results = [];
  for (const file of publications) {
    results.push(
      await renderReleaseFiles(file, deps, (p) => ({ imagesUrl: `${siteUrl}releases/${p.slug}/files/` })),
    );
  }
  const written = [];
  for (const { publication, files, notices } of results) {
    const dir = options.out ?? path.join(options.outRoot ?? 'out', publication.slug);
    written.push({ slug: publication.slug, dir, files: await writeFolderAtomically(dir, files), notices });
  }
  return written;
}

export const renderCommand = new Command('render')
  .description('Render a publication as an HTML email, a plain-text email, a web page and a preview')
  .argument('<publication>', 'the publication file (Markdown with YAML front matter)')
  .option('--out <dir>', 'output folder (default: ./out/<slug>/)')
  .option('--templates <dir>', 'template folder laid out like templates/ (or PRESSROOM_TEMPLATES_DIR)')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Writes email.html and email.txt (recipient placeholders still in), page.html, preview.html
and preview.txt (filled for a sample recipient), publication.json, and the attachments under
files/. The folder is replaced all at once; on any problem nothing is written.

Example:
  $ pressroom render examples/publications/2021-06-08-numerique-gestion-de-crise.md`,
  )
  .action(
    async (
      publication: string,
      opts: { out?: string; templates?: string; json?: boolean; dataDir: string },
    ) => {
      const config = loadConfig(opts);
      const [result] = await renderToFolders([publication], {
        ...opts,
        templates: config.templatesDir,
        siteUrl: config.siteUrl,
        maxFileSize: config.maxFileSize,
      });
      if (!result) return;
      warn(result.notices);
      print(
        opts.json
          ? result
          : [`Rendered ${result.slug} into ${result.dir}/`, ...result.files.map((f) => `  ${f}`)],
        opts.json,
      );
    },
  );
