/**
 * Press kit images (`images:`): what the loader refuses, with its line, before reading what it
 * need not read; what rendering makes of an image (sizes, orientation, no metadata); what the
 * page and the email show. Real files in a temporary workspace, read by the local adapter.
 */
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { sharpImages } from '../../lambdas/adapters/sharp-images.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { manifestImages } from '../../lambdas/core/archive/publish.ts';
import { shareImage } from '../../lambdas/core/archive/share.ts';
import { emailLinks } from '../../lambdas/core/campaigns/links.ts';
import { InvalidInputError, type Problem } from '../../lambdas/core/errors.ts';
import { publicationLimits as max } from '../../lambdas/core/limits.ts';
import { loadPublication, type SourceFiles } from '../../lambdas/core/publication/load.ts';
import type { ProcessedPressImage } from '../../lambdas/core/publication/schema.ts';
import { ImageRefusedError } from '../../lambdas/core/release/press-kit.ts';
import { renderReleaseFiles } from '../../lambdas/core/release/render-release.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { collect, isStreamed } from '../../lambdas/core/store/object-store.ts';
import { publicationText, villesInternet } from '../support/memory-files.ts';

let root: string;
let ws: string;
let photo: Buffer;

/** A 3000 × 2000 JPEG whose camera tag says "turn it a quarter to the right" (6), with a GPS position. */
async function cameraPhoto(): Promise<Buffer> {
  return sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#3a7bd5' } })
    .composite([
      {
        input: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="2000"><circle cx="600" cy="600" r="400" fill="#f6c344"/></svg>',
        ),
      },
    ])
    .jpeg({ quality: 80 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'PressroomCam' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 0/1',
      },
    })
    .toBuffer();
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pressroom-press-kit-'));
  ws = path.join(root, 'ws');
  await mkdir(path.join(ws, 'organizations'), { recursive: true });
  await mkdir(path.join(ws, 'images'));
  await writeFile(path.join(ws, 'organizations', 'villes-internet.yaml'), villesInternet);
  photo = await cameraPhoto();
  await writeFile(path.join(ws, 'images', 'photo.jpg'), photo);
  const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: '#ff000080' } })
    .png()
    .toBuffer();
  await writeFile(path.join(ws, 'images', 'logo.png'), png);
  await writeFile(path.join(ws, 'images', 'png-named.jpg'), png);
  await writeFile(
    path.join(ws, 'images', 'drawing.png'),
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>',
  );
  await writeFile(
    path.join(ws, 'images', 'anim.jpg'),
    Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
  );
  await writeFile(
    path.join(ws, 'images', 'iphone.jpg'),
    Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic')]),
  );
  // A sparse 30 MB file: its size says it all, its bytes are never read.
  await writeFile(path.join(ws, 'images', 'huge.jpg'), '');
  await truncate(path.join(ws, 'images', 'huge.jpg'), 30_000_000);
  await writeFile(path.join(root, 'secret.jpg'), photo);
  await symlink(path.join(root, 'secret.jpg'), path.join(ws, 'images', 'outside.jpg'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The publication `p.md` in the workspace, with these lines of `images:`. */
async function withImages(images: string): Promise<string> {
  const file = path.join(ws, 'p.md');
  await writeFile(file, publicationText(`images:\n${images}`));
  return file;
}

/** The local files, recording which files were opened to be read. */
function recordingFiles(): { files: SourceFiles; opened: string[] } {
  const opened: string[] = [];
  const wrap = (inner: SourceFiles): SourceFiles => ({
    size: (f) => inner.size(f),
    readBytes: (f, o) => {
      opened.push(path.basename(f));
      return inner.readBytes(f, o);
    },
    stream: async (f) => {
      const body = await inner.stream(f);
      return (
        body && {
          size: body.size,
          open: () => {
            opened.push(path.basename(f));
            return body.open();
          },
        }
      );
    },
    within: (p) => wrap(inner.within(p)),
  });
  return { files: wrap(localFiles()), opened };
}

async function problemsOf(file: string, files: SourceFiles = localFiles()): Promise<Problem[]> {
  try {
    await loadPublication(file, files);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('expected the publication to be refused');
}

describe('press kit images in the front matter', () => {
  it('needs alt text, and says where', async () => {
    const file = await withImages('  - file: images/photo.jpg\n    caption: Place du marché\n');
    const [problem, ...others] = await problemsOf(file);
    expect(others).toEqual([]);
    expect(problem).toMatchObject({ file, path: 'images[0].alt', line: 8 });
    expect(problem?.message).toMatch(/required|expected string/i);
  });

  it('refuses an empty or over-long alt text', async () => {
    const file = await withImages(
      `  - file: images/photo.jpg\n    alt: ""\n  - file: images/photo.jpg\n    alt: ${'x'.repeat(max.alt + 1)}\n`,
    );
    const problems = await problemsOf(file);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['images[0].alt', 9],
      ['images[1].alt', 11],
    ]);
    expect(problems[1]?.message).toContain(`at most ${max.alt}`);
  });

  it(`refuses more than ${max.pressImages} images`, async () => {
    const file = await withImages(
      '  - { file: images/photo.jpg, alt: Une photo }\n'.repeat(max.pressImages + 1),
    );
    const [problem] = await problemsOf(file);
    expect(problem).toMatchObject({ path: 'images' });
    expect(problem?.message).toContain(`has ${max.pressImages + 1} images, at most ${max.pressImages}`);
  });

  it('tells the format from the content: an SVG named .png is refused as SVG, a GIF and a HEIC named .jpg too', async () => {
    const file = await withImages(
      [
        '  - { file: images/drawing.png, alt: Un dessin }',
        '  - { file: images/anim.jpg, alt: Une animation }',
        '  - { file: images/iphone.jpg, alt: Une photo de téléphone }',
        '',
      ].join('\n'),
    );
    const problems = await problemsOf(file);
    expect(problems.map((p) => [p.path, p.line, p.value])).toEqual([
      ['images[0].file', 8, 'images/drawing.png'],
      ['images[1].file', 9, 'images/anim.jpg'],
      ['images[2].file', 10, 'images/iphone.jpg'],
    ]);
    expect(problems[0]?.message).toContain('is an SVG drawing, which is refused: it can hold scripts');
    expect(problems[1]?.message).toContain('is a GIF image, which is not accepted');
    expect(problems[2]?.message).toContain('is a HEIC image');
    for (const p of problems) expect(p.message).toMatch(/as a (JPEG|PNG)/);
  });

  it('refuses a PNG named .jpg, saying what to rename it', async () => {
    const file = await withImages('  - { file: images/png-named.jpg, alt: Un logo }\n');
    const [problem] = await problemsOf(file);
    expect(problem?.message).toContain('is a PNG image named ".jpg": rename it with ".png"');
  });

  it('refuses a file over the limit from its size alone, before reading it', async () => {
    const file = await withImages('  - { file: images/huge.jpg, alt: Une très grande photo }\n');
    const { files, opened } = recordingFiles();
    const [problem] = await problemsOf(file, files);
    expect(problem).toMatchObject({ path: 'images[0].file', line: 8, value: 'images/huge.jpg' });
    expect(problem?.message).toContain('is 30 MB, more than the 25 MB a press kit image may be');
    expect(opened).not.toContain('huge.jpg');
  });

  it('refuses a symbolic link to a file outside the workspace, and a missing file', async () => {
    const file = await withImages(
      '  - { file: images/outside.jpg, alt: Un lien }\n  - { file: images/none.jpg, alt: Rien }\n',
    );
    const problems = await problemsOf(file);
    expect(problems.map((p) => p.path)).toEqual(['images[0].file', 'images[1].file']);
    expect(problems[0]?.message).toMatch(/symbolic link/);
    expect(problems[1]?.message).toContain('image not found at');
  });

  it('refuses a path that leaves the publication folder', async () => {
    const file = await withImages('  - { file: ../secret.jpg, alt: Un secret }\n');
    const [problem] = await problemsOf(file);
    expect(problem).toMatchObject({ path: 'images[0].file' });
    expect(problem?.message).toContain('no ".."');
  });
});

describe('rendering a release with press kit images', () => {
  it('keeps the original, makes an upright web size and thumbnail without metadata, and shows them', async () => {
    const file = await withImages(
      [
        '  - file: images/photo.jpg',
        '    alt: Le "marché" <script>alert(1)</script>',
        '    caption: La place du marché',
        '    credit: Camille Martin',
        '    licence: CC BY 4.0',
        '  - { file: images/logo.png, alt: Le logo }',
        '',
      ].join('\n'),
    );
    const templates = await loadTemplateFiles();
    const release = await renderReleaseFiles(
      file,
      {
        files: localFiles(),
        renderer: createReleaseRenderer(templates),
        sampleRecipient: templates.sampleRecipient,
        images: sharpImages(),
      },
      { releaseUrl: 'https://presse.example.org/releases/p/', filesUrl: 'files/' },
    );
    const byName = new Map(release.files.map((f) => [f.name, f]));
    const bytesOf = async (name: string) => {
      const content = byName.get(name)?.content;
      if (content === undefined) throw new Error(`no ${name}`);
      return Buffer.from(isStreamed(content) ? await collect(await content.open()) : content);
    };
    // The original, byte for byte (its EXIF too: docs/publication-format.md says so).
    expect((await bytesOf('files/images/photo.jpg')).equals(photo)).toBe(true);
    const [image, logo] = release.publication.gallery as ProcessedPressImage[];
    // Upright: the camera's tag turns 3000 × 2000 into 2000 × 3000.
    expect(image).toMatchObject({ width: 2000, height: 3000, format: 'jpeg', size: photo.byteLength });
    expect(image?.web).toMatchObject({ name: 'images/web/photo.jpg', width: 1600, height: 2400 });
    expect(image?.thumbnail).toMatchObject({ name: 'images/thumbs/photo.jpg', width: 400, height: 600 });
    for (const name of ['images/web/photo.jpg', 'images/thumbs/photo.jpg']) {
      const meta = await sharp(await bytesOf(name)).metadata();
      expect(meta.format).toBe('jpeg');
      expect(meta.exif, `${name} keeps no EXIF (no GPS position)`).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
    }
    // A small PNG with transparency stays PNG, never enlarged.
    expect(logo?.web).toMatchObject({ name: 'images/web/logo.png', width: 40, height: 30 });
    expect((await sharp(await bytesOf('images/web/logo.png')).metadata()).hasAlpha).toBe(true);
    expect(manifestImages(release.publication).images?.[0]).toMatchObject({
      original: 'files/images/photo.jpg',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      web: 'images/web/photo.jpg',
    });

    // Link previews take the first press kit image's web size, not a generated card.
    expect(shareImage(release.publication)).toEqual({
      path: 'images/web/photo.jpg',
      alt: 'Le "marché" <script>alert(1)</script>',
      width: 1600,
      height: 2400,
      generated: false,
    });

    const page = release.rendered.page;
    expect(page).toContain('<h2 id="gallery-heading">Images presse</h2>');
    expect(page).toContain('href="files/images/photo.jpg" download="photo.jpg"');
    expect(page).toContain('src="https://presse.example.org/releases/p/images/thumbs/photo.jpg"');
    expect(page).toContain('JPEG, 2000 × 3000 px');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('alt="Le &quot;marché&quot; &lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page).toContain('Crédit');

    // The email shows the first image by its absolute URL, 600 px wide; the send's link check sees it.
    const { html, text } = release.rendered.email;
    const lead = 'https://presse.example.org/releases/p/images/web/photo.jpg';
    expect(html).toMatch(new RegExp(`<img [^>]*src="${lead}"[^>]*width="600"`));
    expect(emailLinks(html)).toContain(lead);
    expect(text).toContain('Image\u00a0: La place du marché (Camille Martin)');
    expect(text).toContain(lead);
  });

  it('refuses an image over the pixel limit, from its header', async () => {
    await expect(sharpImages().derive(photo, { maxPixels: 1_000_000, widths: [1600, 400] })).rejects.toThrow(
      ImageRefusedError,
    );
    await expect(sharpImages().derive(photo, { maxPixels: 1_000_000, widths: [1600] })).rejects.toThrow(
      'is 3000 × 2000 pixels (6 megapixels), more than the 1 megapixels a press kit image may have',
    );
  });

  it('refuses an image cut short, at the line of its file', async () => {
    await writeFile(path.join(ws, 'images', 'cut.jpg'), photo.subarray(0, 2000));
    const file = await withImages('  - { file: images/cut.jpg, alt: Une photo coupée }\n');
    const templates = await loadTemplateFiles();
    const rendering = renderReleaseFiles(file, {
      files: localFiles(),
      renderer: createReleaseRenderer(templates),
      sampleRecipient: templates.sampleRecipient,
      images: sharpImages(),
    });
    await expect(rendering).rejects.toThrow(InvalidInputError);
    const problems = await rendering.catch((e: InvalidInputError) => e.problems);
    expect(problems).toMatchObject([{ path: 'images[0].file', line: 8, value: 'images/cut.jpg' }]);
    expect((problems as Problem[])[0]?.message).toContain('cannot be read as an image');
  });
});
