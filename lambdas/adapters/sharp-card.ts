import type { CardPainter } from '../core/archive/share.ts';

/**
 * Draws a release's link-preview card (an SVG built by core/archive/share.ts) as a PNG with
 * sharp (libvips and librsvg). Text is drawn with the fonts fontconfig finds: DejaVu Sans on
 * Debian; a machine without any font draws the card without its text (see docs/press-room
 * in docs/templates.md). sharp is loaded on first use, so the commands that never publish do
 * not pay for it.
 */
export function createSharpCardPainter(): CardPainter {
  let sharpPromise: Promise<typeof import('sharp')['default']> | undefined;
  return {
    async paint(svg) {
      sharpPromise ??= import('sharp').then((m) => m.default);
      const sharp = await sharpPromise;
      // density 72: the SVG's pixels are the PNG's, 1200×630.
      const png = await sharp(Buffer.from(svg), { density: 72 }).png({ compressionLevel: 9 }).toBuffer();
      return new Uint8Array(png);
    },
  };
}
