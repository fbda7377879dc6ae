import path from 'node:path';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { writeFolderAtomically } from '../../lambdas/adapters/output-folder.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { siteTop } from '../../lambdas/core/archive/publish.ts';
import { slugify } from '../../lambdas/core/publication/slug.ts';
import { renderReleaseFiles } from '../../lambdas/core/release/render-release.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import type { RenderOptions } from '../commands/render.ts';
import { loadConfig } from '../context.ts';
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
  const deps = { files, renderer, sampleRecipient: templates.sampleRecipient, images: sharpImages() };
  const siteUrl = options.siteUrl ?? 'http://localhost:3000/';
  // Render everything first: a bad publication stops the run before anything is written.
  const results = [];
  for (const file of publications) {
    results.push(
      await renderReleaseFiles(file, deps, (p) => ({
        imagesUrl: `${siteUrl}releases/${p.slug}/files/`,
        releaseUrl: `${siteUrl}releases/${p.slug}/`,
        tagUrl: (tag) => `${siteTop(siteUrl)}tags/${slugify(tag) || 'tag'}/index.html`,
      })),
    );
  }
  const written = [];
  for (const { publication, files, notices } of results) {
    const dir = options.out ?? path.join(options.outRoot ?? 'out', publication.slug);
    written.push({ slug: publication.slug, dir, files: await writeFolderAtomically(dir, files), notices });
  }
  return written;
}

/**
 * `pressroom render <publication>`: renders one publication into its folder (--out, else
 * ./out/<slug>/) with the configured templates and site address, and lists what it wrote.
 */
export async function renderRelease(publication: string, opts: RenderOptions): Promise<void> {
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
}
