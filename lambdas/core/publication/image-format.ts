/**
 * The format of a press kit image, told from its first bytes (never from its name): JPEG,
 * PNG and WebP are accepted, since every browser and mail client shows them. Anything else
 * is refused with what to do: SVG can hold scripts and links, GIF and HEIC do not show
 * everywhere (HEIC is the iPhone's format), TIFF and RAW are not for the web.
 */

export type PressImageFormat = 'jpeg' | 'png' | 'webp';

/** The file name extensions of each accepted format. */
export const pressImageExtensions: Record<PressImageFormat, readonly string[]> = {
  jpeg: ['.jpg', '.jpeg'],
  png: ['.png'],
  webp: ['.webp'],
};

/** How many first bytes `sniffImageFormat` needs. */
export const sniffBytes = 512;

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, end));

/** The accepted format of these first bytes, or why they are refused. */
export function sniffImageFormat(head: Uint8Array): { format: PressImageFormat } | { refused: string } {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'jpeg' };
  if (ascii(head, 0, 8) === '\x89PNG\r\n\x1a\n') return { format: 'png' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { format: 'webp' };
  const save = 'save it as a JPEG (photos) or PNG (drawings, logos) file and list that one instead';
  if (ascii(head, 0, 4) === 'GIF8') return { refused: `is a GIF image, which is not accepted: ${save}` };
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    const what = /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)
      ? 'a HEIC image (the iPhone’s format), which not every browser or mail client shows'
      : /^avi[fs]$/.test(brand)
        ? 'an AVIF image, which not every mail client shows'
        : 'a video or HEIF file';
    return { refused: `is ${what}: ${save}` };
  }
  if (ascii(head, 0, 4) === 'II*\0' || ascii(head, 0, 4) === 'MM\0*')
    return { refused: `is a TIFF (or camera RAW) image, which browsers do not show: ${save}` };
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(head)
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^<(\?xml|svg|!DOCTYPE svg|!--)/i.test(text) && /<svg[\s>]/i.test(text))
    return {
      refused: `is an SVG drawing, which is refused: it can hold scripts and links to other files; export it as a PNG file and list that one instead`,
    };
  return {
    refused: `is not a JPEG, PNG or WebP image (its first bytes are none of these formats): ${save}`,
  };
}

/** The problem of a file name whose extension is not its format's, or undefined. */
export function extensionProblem(file: string, format: PressImageFormat): string | undefined {
  const dot = file.lastIndexOf('.');
  const extension = dot > file.lastIndexOf('/') ? file.slice(dot).toLowerCase() : '';
  const wanted = pressImageExtensions[format];
  if (wanted.includes(extension)) return undefined;
  return `is a ${format.toUpperCase()} image named ${extension ? `"${extension}"` : 'without an extension'}: rename it with "${wanted[0]}", so that it downloads and opens as what it is`;
}
