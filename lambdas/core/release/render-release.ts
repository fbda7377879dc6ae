import path from 'node:path';
import { loadPublication, type SourceFiles } from '../publication/load.ts';
import type { Publication } from '../publication/schema.ts';
import type { ReleaseRenderer, RenderedRelease, RenderOptions } from '../render/document.ts';
import { compileForRecipients, type RecipientFields } from '../render/recipient.ts';

/** A file of a rendered release, by its name inside the release's folder. */
export interface ReleaseFile {
  name: string;
  content: string | Uint8Array;
  contentType: string;
}

/** Everything `pressroom render` produces for one publication. */
export interface RenderedReleaseFiles {
  publication: Publication;
  rendered: RenderedRelease;
  files: ReleaseFile[];
}

/**
 * Loads a publication, renders it once and lays out its files: the email with its
 * placeholders (`email.html`, `email.txt`), the web page, the normalised data, a preview
 * filled for the sample recipient, and the attachments under `files/`. Nothing is written:
 * the caller stores the files, all or none.
 */
export async function renderReleaseFiles(
  file: string,
  deps: { files: SourceFiles; renderer: ReleaseRenderer; sampleRecipient: RecipientFields },
  options: RenderOptions | ((publication: Publication) => RenderOptions) = {},
): Promise<RenderedReleaseFiles> {
  const publication = await loadPublication(file, deps.files);
  const rendered = await deps.renderer.render(
    publication,
    typeof options === 'function' ? options(publication) : options,
  );
  const preview = compileForRecipients(rendered.email).fill(deps.sampleRecipient);
  const files: ReleaseFile[] = [
    { name: 'email.html', content: rendered.email.html, contentType: 'text/html; charset=utf-8' },
    { name: 'email.txt', content: rendered.email.text, contentType: 'text/plain; charset=utf-8' },
    { name: 'page.html', content: rendered.page, contentType: 'text/html; charset=utf-8' },
    { name: 'preview.html', content: preview.html, contentType: 'text/html; charset=utf-8' },
    { name: 'preview.txt', content: preview.text, contentType: 'text/plain; charset=utf-8' },
    {
      name: 'publication.json',
      content: `${JSON.stringify(publication, null, 2)}\n`,
      contentType: 'application/json',
    },
  ];
  for (const attachment of publication.attachments) {
    files.push({
      name: `files/${attachment.file}`,
      content: await deps.files.readBytes(path.join(path.dirname(file), attachment.file)),
      contentType: 'application/octet-stream',
    });
  }
  return { publication, rendered, files };
}
