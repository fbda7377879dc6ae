import { createHash } from 'node:crypto';
import path from 'node:path';
import { InvalidInputError, PressroomError, type Problem, RefusedFileError } from '../errors.ts';
import { formatPath } from '../input.ts';
import { publicationLimits as max } from '../limits.ts';
import type { LoadedPublication, SourceFiles } from '../publication/load.ts';
import type { DerivedImage, PressImage, ProcessedPressImage } from '../publication/schema.ts';
import { slugify } from '../publication/slug.ts';
import type { ReleaseFile } from './render-release.ts';

/**
 * Press kit images: for each image a publication lists, a web size and a thumbnail are made
 * when the release is rendered, and the original is kept as it was given, for download.
 *
 *   files/<path as written>        the original, byte for byte (its metadata too: see docs)
 *   images/web/<name>.jpg          at most 1600 px wide: the gallery's large view, the email
 *   images/thumbs/<name>.jpg       400 px wide: the gallery
 *
 * Made images are JPEG (PNG when the image has transparency), which every mail client
 * shows, turned upright from the camera's orientation tag, in sRGB and without metadata
 * (no GPS position, no camera serial number).
 */

/** The widest a made image may be, in pixels (never enlarged). */
export const pressImageWidths = { web: 1600, thumbnail: 400 } as const;

/** One image made from an original. */
export interface MadeImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  format: 'jpeg' | 'png';
}

/**
 * Makes images from an original (sharp locally and on Lambda: lambdas/adapters/sharp-images.ts).
 * `derive` refuses, with an ImageRefusedError, an image that cannot be decoded or that has
 * more than `maxPixels` pixels (told from its header, before it is decoded).
 */
export interface ImageProcessor {
  derive(
    original: Uint8Array,
    options: { maxPixels: number; widths: readonly number[] },
  ): Promise<{ format: string; width: number; height: number; made: MadeImage[] }>;
}

/** An image the processor cannot take; `reason` says why and what to do. */
export class ImageRefusedError extends PressroomError {
  override name = 'ImageRefusedError';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}

/**
 * The release's press kit images processed: their made files (the originals are copied with
 * the attachments) and the gallery with each image's dimensions, hash and made sizes. Every
 * problem is reported at once, at the line of the image's `file`.
 */
export async function processPressKit(
  loaded: LoadedPublication,
  files: SourceFiles,
  processor: ImageProcessor | undefined,
): Promise<{ gallery: ProcessedPressImage[]; files: ReleaseFile[] }> {
  const { publication } = loaded;
  const images = (publication.gallery ?? []) as PressImage[];
  if (images.length === 0) return { gallery: [], files: [] };
  if (!processor) {
    throw new PressroomError(
      `${publication.source}: this release has press kit images, but nothing here can process images`,
    );
  }
  const problems: Problem[] = [];
  const gallery: ProcessedPressImage[] = [];
  const made: ReleaseFile[] = [];
  const names = uniqueNames(images.map((i) => i.file));
  for (const [i, image] of images.entries()) {
    const at = ['images', i, 'file'];
    const where = { file: publication.source, ...loaded.locate(at), path: formatPath(at), value: image.file };
    const target = path.join(path.dirname(publication.source), image.file);
    try {
      const original = await files.readBytes(target, { maxSize: max.pressImageFile });
      if (!original) {
        problems.push({ ...where, message: `${target} was removed while the release was rendered` });
        continue;
      }
      const result = await processor.derive(original, {
        maxPixels: max.pressImagePixels,
        widths: [pressImageWidths.web, pressImageWidths.thumbnail],
      });
      if (result.format !== image.format) {
        problems.push({
          ...where,
          message: `${target} starts like a ${image.format.toUpperCase()} image but is read as ${result.format.toUpperCase()}: save it again as JPEG or PNG`,
        });
        continue;
      }
      const [web, thumbnail] = result.made as [MadeImage, MadeImage];
      const name = names[i] as string;
      const derived = (folder: string, m: MadeImage): DerivedImage => ({
        name: `images/${folder}/${name}.${m.format === 'png' ? 'png' : 'jpg'}`,
        width: m.width,
        height: m.height,
        bytes: m.bytes.byteLength,
      });
      const processed: ProcessedPressImage = {
        ...image,
        width: result.width,
        height: result.height,
        sha256: createHash('sha256').update(original).digest('hex'),
        web: derived('web', web),
        thumbnail: derived('thumbs', thumbnail),
      };
      gallery.push(processed);
      for (const [d, m] of [
        [processed.web, web],
        [processed.thumbnail, thumbnail],
      ] as const) {
        made.push({ name: d.name, content: m.bytes, contentType: `image/${m.format}` });
      }
    } catch (error) {
      if (error instanceof ImageRefusedError || error instanceof RefusedFileError) {
        problems.push({ ...where, message: `${target} ${error.reason}` });
        continue;
      }
      throw error;
    }
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return { gallery, files: made };
}

/** Names for the made images of each file: its name as a slug, made unique (`photo`, `photo-2`). */
function uniqueNames(files: readonly string[]): string[] {
  const taken = new Set<string>();
  return files.map((file, i) => {
    const stem = slugify(path.basename(file).replace(/\.[^.]*$/, '')) || `image-${i + 1}`;
    let name = stem;
    for (let n = 2; taken.has(name); n++) name = `${stem}-${n}`;
    taken.add(name);
    return name;
  });
}

/** The message of an image over the pixel limit (the adapter's, in the core's words). */
export function tooManyPixels(width: number, height: number, maxPixels: number): string {
  const mp = (n: number) => `${Number((n / 1_000_000).toFixed(1))} megapixels`;
  return `is ${width} × ${height} pixels (${mp(width * height)}), more than the ${mp(maxPixels)} a press kit image may have: export it smaller (3000 px wide is plenty for print)`;
}
