import path from 'node:path';
import { PressroomError } from '../errors.ts';
import { mediaTypeOf } from '../public/site-headers.ts';
import { loadPublication, type SourceFiles } from '../publication/load.ts';
import type { Publication } from '../publication/schema.ts';
import type { ReleaseRenderer, RenderedRelease, RenderOptions } from '../render/document.ts';
import { compileForRecipients, type EmailDocument, type RecipientFields } from '../render/recipient.ts';
import type { Content } from '../store/object-store.ts';
import { type ImageProcessor, processPressKit } from './press-kit.ts';

/** A file of a rendered release, by its name inside the release's folder. */
export interface ReleaseFile {
  name: string;
  /** Attachments and images are streamed: read when they are written, never held whole. */
  content: Content;
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
 * filled for the sample recipient, the attachments, the body's images and the press kit
 * images' originals under `files/`, and the press kit's web sizes and thumbnails under
 * `images/` (press-kit.ts). Nothing is written: the caller stores the files, all or none.
 */
export async function renderReleaseFiles(
  file: string,
  deps: {
    files: SourceFiles;
    renderer: ReleaseRenderer;
    sampleRecipient: RecipientFields;
    /** Makes the press kit images' web sizes and thumbnails; needed when a release lists images. */
    images?: ImageProcessor;
  },
  options: RenderOptions | ((publication: Publication) => RenderOptions) = {},
): Promise<RenderedReleaseFiles> {
  const loaded = await loadPublication(file, deps.files);
  const { notices } = loaded;
  const sources = deps.files.within(file);
  const pressKit = await processPressKit(loaded, sources, deps.images);
  const publication: Publication = {
    ...loaded.publication,
    ...(pressKit.gallery.length > 0 && { gallery: pressKit.gallery }),
  };
  const rendered = await deps.renderer.render(
    publication,
    typeof options === 'function' ? options(publication) : options,
  );
  const files: ReleaseFile[] = [
    ...emailFiles(rendered.email, deps.sampleRecipient),
    { name: 'page.html', content: rendered.page, contentType: 'text/html; charset=utf-8' },
    {
      name: 'publication.json',
      content: `${JSON.stringify(publication, null, 2)}\n`,
      contentType: 'application/json',
    },
  ];
  // Attachments and images (press kit originals too) are checked again, and read only when written.
  const names = new Set(
    [...publication.attachments, ...publication.images, ...pressKit.gallery].map((f) => f.file),
  );
  for (const name of names) {
    const content = await sources.stream(path.join(path.dirname(file), name));
    if (content === undefined) {
      throw new PressroomError(`${file}: ${name} was removed while the release was rendered; render again`);
    }
    files.push({ name: `files/${name}`, content, contentType: mediaTypeOf(name) });
  }
  files.push(...pressKit.files);
  return { publication, rendered, files, notices };
}

/** The email's files: as sent (placeholders in) and as the sample recipient would read it. */
function emailFiles(email: EmailDocument, sampleRecipient: RecipientFields): ReleaseFile[] {
  const preview = compileForRecipients(email).fill(sampleRecipient);
  return [
    { name: 'email.html', content: email.html, contentType: 'text/html; charset=utf-8' },
    { name: 'email.txt', content: email.text, contentType: 'text/plain; charset=utf-8' },
    { name: 'preview.html', content: preview.html, contentType: 'text/html; charset=utf-8' },
    { name: 'preview.txt', content: preview.text, contentType: 'text/plain; charset=utf-8' },
  ];
}

/**
 * The same release with another email (rendered again once its PDF exists, to link to it):
 * the email's files replaced, everything else kept.
 */
export function withEmail(
  release: RenderedReleaseFiles,
  email: EmailDocument,
  sampleRecipient: RecipientFields,
): RenderedReleaseFiles {
  const replaced = new Map(emailFiles(email, sampleRecipient).map((f) => [f.name, f]));
  return {
    ...release,
    rendered: { ...release.rendered, email },
    files: release.files.map((f) => replaced.get(f.name) ?? f),
  };
}
