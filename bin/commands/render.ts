import path from 'node:path';
import { Command } from 'commander';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { renderReleaseFiles } from '../../lambdas/core/release/render-release.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { dataDirOption, loadConfig } from '../context.ts';
import { print } from '../output.ts';

/** Renders publications into folders (`pressroom render`; the browser tests use it too). */
export async function renderToFolders(
  publications: string[],
  options: { out?: string; outRoot?: string; templates?: string },
): Promise<{ slug: string; dir: string; files: string[] }[]> {
  const templates = await loadTemplateFiles(options.templates ?? defaultTemplatesDir);
  const renderer = createReleaseRenderer(templates);
  const deps = { files: localSourceFiles, renderer, sampleRecipient: templates.sampleRecipient };
  // Render everything first: a bad publication stops the run before anything is written.
  const results = [];
  for (const file of publications) results.push(await renderReleaseFiles(file, deps));
  const written = [];
  for (const { publication, files } of results) {
    const dir = options.out ?? path.join(options.outRoot ?? 'out', publication.slug);
    written.push({ slug: publication.slug, dir, files: await writeFolderAtomically(dir, files) });
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
      const [result] = await renderToFolders([publication], { ...opts, templates: config.templatesDir });
      if (!result) return;
      print(
        opts.json
          ? result
          : [`Rendered ${result.slug} into ${result.dir}/`, ...result.files.map((f) => `  ${f}`)],
        opts.json,
      );
    },
  );
