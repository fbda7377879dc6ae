import path from 'node:path';
import { PressroomError } from '../errors.ts';
import { loadPublication, type SourceFiles } from '../publication/load.ts';
import type { Publication } from '../publication/schema.ts';
import type { ReleaseRenderer, RenderedRelease, RenderOptions } from '../render/document.ts';
import { imageTypes } from '../render/markdown.ts';
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
  /** What the user should know that did not stop the render (a file converted to UTF-8...). */
  notices: string[];
}

/**
 * Loads a publication, renders it once and lays out its files: the email with its
 * placeholders (`email.html`, `email.txt`), the web page, the normalised data, a preview
 * filled for the sample recipient, and the attachments and the body's images under
 * `files/`. Nothing is written: the caller stores the files, all or none.
 */
export async function renderReleaseFiles(
  file: string,
  deps: { files: SourceFiles; renderer: ReleaseRenderer; sampleRecipient: RecipientFields },
  options: RenderOptions | ((publication: Publication) => RenderOptions) = {},
): Promise<RenderedReleaseFiles> {
  const { publication, notices } = await loadPublication(file, deps.files);
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
  // Attachments and images are read through the workspace's checks again, now whole.
  const sources = deps.files.within(file);
  const images = new Set(publication.images.map((i) => i.file));
  const names = new Set([...publication.attachments.map((a) => a.file), ...images]);
  for (const name of names) {
    const type = images.has(name) ? imageTypes[path.extname(name).toLowerCase()] : undefined;
    const content = await sources.readBytes(path.join(path.dirname(file), name));
    if (content === undefined) {
      throw new PressroomError(`${file}: ${name} was removed while the release was rendered; render again`);
    }
    files.push({ name: `files/${name}`, content, contentType: type ?? 'application/octet-stream' });
  }
  return { publication, rendered, files, notices };
}
