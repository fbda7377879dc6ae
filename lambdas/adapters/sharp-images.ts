import {
  type ImageProcessor,
  ImageRefusedError,
  type MadeImage,
  tooManyPixels,
} from '../core/release/press-kit.ts';

/**
 * Press kit images made with sharp (libvips). sharp is a native package: it is loaded on
 * first use only, so commands and functions that never make images never load it. On AWS
 * the publish function takes it from its layer (lib/chromium.ts), built for Linux x64.
 */

type Sharp = typeof import('sharp').default;
let loading: Promise<Sharp> | undefined;

function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then((m) => {
    const sharp = m.default;
    // Made once per release: libvips' operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

const unreadable =
  'cannot be read as an image (the file may be damaged or cut short): open it in an image editor and save it again as JPEG or PNG';

/** The image processor of the command line and of the publish function. */
export function sharpImages(): ImageProcessor {
  return {
    async derive(original, { maxPixels, widths }) {
      const sharp = await loadSharp();
      // The header alone: the pixel count is checked before anything is decoded.
      const meta = await sharp(original)
        .metadata()
        .catch((error: unknown) => {
          throw new ImageRefusedError(unreadable, { cause: error });
        });
      const { width, height, format, hasAlpha } = meta;
      if (!width || !height) throw new ImageRefusedError(unreadable);
      if (width * height > maxPixels) throw new ImageRefusedError(tooManyPixels(width, height, maxPixels));
      const upright = (meta.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
      const made: MadeImage[] = [];
      // The largest first, from the original; each smaller one from the one before (cheap to decode).
      let source: Uint8Array = original;
      for (const widest of widths) {
        const pipeline = sharp(source, { limitInputPixels: maxPixels, failOn: 'error' })
          .autoOrient()
          .resize({ width: widest, withoutEnlargement: true });
        // Without withMetadata(), sharp writes no metadata (EXIF, GPS, XMP) and converts to sRGB.
        const encoded = hasAlpha
          ? pipeline.png({ compressionLevel: 9, palette: false })
          : pipeline.jpeg({ quality: 82, mozjpeg: true, progressive: true });
        const { data, info } = await encoded.toBuffer({ resolveWithObject: true }).catch((error: unknown) => {
          throw new ImageRefusedError(unreadable, { cause: error });
        });
        made.push({ bytes: data, width: info.width, height: info.height, format: hasAlpha ? 'png' : 'jpeg' });
        source = data;
      }
      return { format: String(format), ...upright, made };
    },
  };
}
