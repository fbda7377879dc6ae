/**
 * Screenshots compared with committed baselines (tests/fixtures/visual/*.png) with pixelmatch.
 * `UPDATE_VISUAL_BASELINES=1` (npm run test:visual:update) writes the baselines instead.
 * A mismatch leaves the screenshot taken and a diff image under .artifacts/visual/.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { repo } from './cli.ts';

/** The committed baselines, one PNG per screenshot. */
export const baselinesDir = path.join(repo, 'tests', 'fixtures', 'visual');
/** Where a mismatch leaves `<name>.actual.png` and `<name>.diff.png` (gitignored). */
export const artifactsDir = path.join(repo, '.artifacts', 'visual');
/** Set to 1 to write the baselines from this run's screenshots instead of comparing. */
export const updateVariable = 'UPDATE_VISUAL_BASELINES';
export const updating = process.env[updateVariable] === '1';

/**
 * How different a screenshot may be and still match. `threshold` is pixelmatch's: the colour
 * distance (0 to 1, in YIQ) under which two pixels count as the same; pixels it takes for
 * anti-aliasing are not counted. `maxShare` is the share of pixels that may differ: 0.01 %,
 * about 150 pixels of the email at 375 px and 360 of the page, a few glyphs. The same
 * browser with the same fonts and no text anti-aliasing draws the same pixels (0 differ from
 * one run to the next), so this only absorbs a stray edge; what a template change does is
 * well above it (measured on the seed: the tag chips' corners squared 0.013 %, the key
 * figures in the text colour 0.04 %, links without underline 0.07 %, one word replaced
 * 0.14 %, anything moved 1 px or more 1 to 8 %). A changed digit (0.001 %) passes: the
 * facts are the text tests' to check, not this one's.
 */
export const tolerance = { threshold: 0.1, maxShare: 0.0001 };

export interface Comparison {
  name: string;
  /** Pixels that differ (the area only one image covers counts as differing). */
  differing: number;
  total: number;
  /** `differing / total`. */
  share: number;
  /** The baseline's size and the screenshot's, `W×H`. */
  baselineSize: string;
  actualSize: string;
}

/** Compares two PNGs over the larger of their two areas (an area only one covers differs). */
export function comparePngs(name: string, baseline: PNG, actual: PNG): Comparison & { diff: PNG } {
  const width = Math.max(baseline.width, actual.width);
  const height = Math.max(baseline.height, actual.height);
  const [a, b] = [padded(baseline, width, height), padded(actual, width, height)];
  const diff = new PNG({ width, height });
  const differing = pixelmatch(a.data, b.data, diff.data, width, height, {
    threshold: tolerance.threshold,
  });
  const total = width * height;
  return {
    name,
    differing,
    total,
    share: differing / total,
    baselineSize: `${baseline.width}×${baseline.height}`,
    actualSize: `${actual.width}×${actual.height}`,
    diff,
  };
}

/** The image on a canvas of the given size, the rest transparent magenta (never on a page). */
function padded(image: PNG, width: number, height: number): PNG {
  if (image.width === width && image.height === height) return image;
  const out = new PNG({ width, height, fill: true });
  for (let i = 0; i < out.data.length; i += 4) out.data.set([255, 0, 255, 255], i);
  PNG.bitblt(image, out, 0, 0, image.width, image.height, 0, 0);
  return out;
}

/** PNG bytes as small as pngjs makes them (RGB when opaque): the baselines are committed. */
export function encodePng(image: PNG): Buffer {
  let opaque = true;
  for (let i = 3; i < image.data.length && opaque; i += 4) opaque = image.data[i] === 255;
  return PNG.sync.write(image, {
    deflateLevel: 9,
    filterType: -1,
    ...(opaque && { colorType: 2, inputHasAlpha: true }),
  });
}

const relative = (file: string) => path.relative(repo, file);
const percent = (share: number) => `${(share * 100).toFixed(3)} %`;

/**
 * Compares a screenshot with its baseline `<name>.png`; returns the comparison when it
 * matches, throws saying how much differs and where the images are when it does not. When
 * updating, writes the baseline instead (only when a pixel changed: no churn in git).
 * `update` overrides the environment; `artifactsName` names the images left on a mismatch
 * (those of an earlier run are removed first).
 */
export async function matchBaseline(
  name: string,
  screenshot: Buffer,
  options: { update?: boolean; artifactsName?: string } = {},
): Promise<Comparison> {
  const actual = PNG.sync.read(screenshot);
  const baselineFile = path.join(baselinesDir, `${name}.png`);
  const existing = await readFile(baselineFile).then(
    (bytes) => PNG.sync.read(bytes),
    () => undefined,
  );
  const artifacts = options.artifactsName ?? name;
  const actualFile = path.join(artifactsDir, `${artifacts}.actual.png`);
  const diffFile = path.join(artifactsDir, `${artifacts}.diff.png`);
  // What an earlier run left is not this run's result.
  await Promise.all([rm(actualFile, { force: true }), rm(diffFile, { force: true })]);
  if (options.update ?? updating) {
    const same =
      existing?.width === actual.width &&
      existing.height === actual.height &&
      existing.data.equals(actual.data);
    if (!same) {
      await mkdir(baselinesDir, { recursive: true });
      await writeFile(baselineFile, encodePng(actual));
    }
    return {
      name,
      differing: 0,
      total: actual.width * actual.height,
      share: 0,
      baselineSize: `${actual.width}×${actual.height}`,
      actualSize: `${actual.width}×${actual.height}`,
    };
  }
  await mkdir(artifactsDir, { recursive: true });
  const update = `If the change is intended, run \`npm run test:visual:update\` (${updateVariable}=1) and commit the baselines.`;
  if (!existing) {
    await writeFile(actualFile, encodePng(actual));
    throw new Error(
      `${name}: no baseline at ${relative(baselineFile)}; this run's screenshot is ${relative(actualFile)}. ${update}`,
    );
  }
  const { diff, ...comparison } = comparePngs(name, existing, actual);
  if (comparison.share <= tolerance.maxShare) return comparison;
  await Promise.all([writeFile(actualFile, encodePng(actual)), writeFile(diffFile, encodePng(diff))]);
  const sizes =
    comparison.baselineSize === comparison.actualSize
      ? ''
      : ` The size changed: ${comparison.baselineSize} in the baseline, ${comparison.actualSize} now.`;
  throw new VisualMismatchError(
    `${name}: ${percent(comparison.share)} of the pixels differ from the baseline (${comparison.differing} of ${comparison.total}; at most ${percent(tolerance.maxShare)} may).${sizes} Baseline: ${relative(baselineFile)}; screenshot: ${relative(actualFile)}; differences in red: ${relative(diffFile)}. ${update}`,
    comparison,
  );
}

/** A screenshot that does not match its baseline. */
export class VisualMismatchError extends Error {
  override name = 'VisualMismatchError';
  constructor(
    message: string,
    readonly comparison: Comparison,
  ) {
    super(message);
  }
}
