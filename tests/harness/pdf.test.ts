import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFDict, PDFDocument, PDFName } from '@cantoo/pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveKeys, type ReleaseManifest } from '../../lambdas/core/archive/manifest.ts';
import { getJson } from '../../lambdas/core/store/object-store.ts';
import type { PublishOutcome } from '../../lambdas/handlers/publish.ts';
import { openPdf } from '../support/pdf.ts';
import type { LambdaContainer } from './functions.ts';
import { type HarnessWorld, startHarness, takeDenials } from './world.ts';

/**
 * PDFs on Lambda, proved on the stack as synthesized: the publish function's real bundle, run
 * with the template's environment and its layers found as Lambda finds them (NODE_PATH, the
 * project's node_modules out of reach), prints the reference release (the French example)
 * with the layer's Chromium, extracted into the container's own temporary folder. Chromium
 * must run here (Linux x64): if it cannot, these tests fail, they never pass without a PDF.
 */

const examples = path.resolve(import.meta.dirname, '../../examples');
const release = '2021-06-08-numerique-gestion-de-crise.md';
const key = `publications/${release}`;
const title = 'Gestion de crise avec le numérique : les villes moyennes résilientes';

let world: HarnessWorld;
let publish: LambdaContainer;
/** The publish container's temporary folder: its /tmp. */
let tmpDir: string;

beforeAll(async () => {
  world = await startHarness({ sender: 'presse@villes-internet.net' });
  publish = world.container('PublishFunction');
  tmpDir = path.join(world.assembly.outdir, 'tmp', publish.spec.logicalId);
  for (const name of readdirSync(path.join(examples, 'organizations')))
    await world.store.put(
      `publications/organizations/${name}`,
      readFileSync(path.join(examples, 'organizations', name)),
    );
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

const denials = (): string[] => takeDenials(world);

/** Uploads the reference release and delivers its notification; times the invocation and Chromium's memory. */
async function publishReference(): Promise<{ outcome: PublishOutcome; ms: number; chromiumPeakMb: number }> {
  await world.store.put(key, await readFile(path.join(examples, 'publications', release)));
  const sampler = sampleChromiumMemory(path.join(tmpDir, 'chromium'));
  const started = performance.now();
  const deliveries = await world.deliverS3Notifications();
  const ms = performance.now() - started;
  const chromiumPeakMb = sampler.stop();
  expect(deliveries.map((d) => d.function)).toEqual([publish.spec.logicalId]);
  const invocation = deliveries[0]?.invocation;
  if (!invocation?.ok) throw new Error(`the publish function failed: ${JSON.stringify(invocation)}`);
  const [outcome] = invocation.result as PublishOutcome[];
  expect(denials()).toEqual([]);
  return { outcome: outcome as PublishOutcome, ms, chromiumPeakMb };
}

async function archivedPdf(slug: string): Promise<Uint8Array | undefined> {
  const manifest = await getJson<ReleaseManifest>(world.store, archiveKeys.manifest(slug));
  if (!manifest?.value.files.includes('release.pdf')) return undefined;
  const pdf = await world.store.get(`${archiveKeys.version(slug, manifest.value.version)}release.pdf`);
  return pdf?.body;
}

describe('PDFs on Lambda, on the stack as synthesized', () => {
  let slug: string;

  it('the publish function carries the Chromium layer, and its bundle leaves Chromium and playwright-core to it', async () => {
    expect(publish.spec.layerDirs).toHaveLength(1);
    const modules = path.join(publish.spec.layerDirs[0] as string, 'nodejs', 'node_modules');
    for (const file of [
      '@sparticuz/chromium/bin/chromium.br',
      'playwright-core/package.json',
      'tar-fs/package.json',
    ])
      expect(existsSync(path.join(modules, file)), file).toBe(true);
    expect(existsSync(path.join(publish.spec.assetDir, 'node_modules'))).toBe(false);
    const bundle = await readFile(publish.spec.entry, 'utf8');
    expect(bundle).toContain('"@sparticuz/chromium"');
    expect(bundle).toContain('"playwright-core"');
    // Playwright's own code is not in the bundle.
    expect(bundle).not.toContain('Browser.newContext');
    // No other function carries a layer.
    expect(world.functions.filter((f) => f.layerDirs.length > 0).map((f) => f.logicalId)).toEqual([
      publish.spec.logicalId,
    ]);
  });

  it('prints the reference release: the archive and the press room hold its PDF, titled, in French, with the shipped fonts', async () => {
    const cold = await publishReference();
    expect(cold.outcome).toEqual(expect.objectContaining({ key, outcome: 'published', action: 'created' }));
    expect(cold.outcome).not.toHaveProperty('notices');
    slug = (cold.outcome as { slug: string }).slug;
    const pdf = await archivedPdf(slug);
    expect(pdf, 'archive/<slug>/<version>/release.pdf').toBeDefined();
    const bytes = pdf as Uint8Array;
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    // The press room offers the same bytes.
    const offered = await world.store.get(`site/releases/${slug}/release.pdf`);
    expect(offered && Buffer.from(offered.body).equals(Buffer.from(bytes))).toBe(true);

    const doc = await openPdf(bytes);
    const { info } = await doc.getMetadata();
    // French typography: a no-break space before the colon.
    expect((info as { Title?: string }).Title?.replace(/[\u00a0\u202f]/g, ' ')).toBe(title);
    expect((info as { Language?: string }).Language).toBe('fr');
    // The reference release is two to four A4 pages.
    expect(doc.numPages).toBeGreaterThanOrEqual(2);
    expect(doc.numPages).toBeLessThanOrEqual(4);
    let text = '';
    for (let n = 1; n <= doc.numPages; n++) {
      const content = await (await doc.getPage(n)).getTextContent();
      text += content.items.map((i) => ('str' in i ? `${i.str} ` : '')).join('');
    }
    const flat = text.replace(/[\s\u00a0\u202f]+/g, ' ');
    for (const fact of [
      'les villes moyennes résilientes',
      'Caroline Cayeux',
      'présidente de Villes de France',
    ])
      expect(flat).toContain(fact);
    expect(flat).toContain(`1 / ${doc.numPages}`);
    await doc.destroy();

    // Drawn with the fonts the layer ships (Open Sans), embedded: Lambda has no others.
    const fonts = new Set<string>();
    const parsed = await PDFDocument.load(bytes, { updateMetadata: false });
    for (const [, object] of parsed.context.enumerateIndirectObjects()) {
      if (!(object instanceof PDFDict) || object.get(PDFName.of('Type')) !== PDFName.of('FontDescriptor'))
        continue;
      fonts.add(String(object.get(PDFName.of('FontName'))).replace(/^\/[A-Z]{6}\+/, ''));
      expect(object.has(PDFName.of('FontFile2')) || object.has(PDFName.of('FontFile3'))).toBe(true);
    }
    expect(
      [...fonts].every((f) => f.startsWith('OpenSans')),
      [...fonts].join(', '),
    ).toBe(true);

    // Extracted once into the container's /tmp: the build, its fonts and the Amazon Linux libraries.
    const extracted = await stat(path.join(tmpDir, 'chromium'));
    expect(existsSync(path.join(tmpDir, 'fonts', 'fonts'))).toBe(true);
    expect(existsSync(path.join(tmpDir, 'al2023', 'lib'))).toBe(true);

    const warm = await publishReference();
    expect(warm.outcome).toEqual(expect.objectContaining({ key, outcome: 'published', action: 'updated' }));
    expect(warm.outcome).not.toHaveProperty('notices');
    expect((await archivedPdf(slug))?.subarray(0, 5)).toEqual(bytes.subarray(0, 5));
    expect((await stat(path.join(tmpDir, 'chromium'))).mtimeMs).toBe(extracted.mtimeMs);
    console.log(
      `publish with PDF (${doc.numPages} pages, ${Math.round(bytes.length / 1024)} KB): cold ${Math.round(cold.ms)} ms, warm ${Math.round(warm.ms)} ms; Chromium's processes at most ${cold.chromiumPeakMb} MB cold, ${warm.chromiumPeakMb} MB warm (RSS)`,
    );
  }, 240_000);

  it('when Chromium cannot start, the release is published without its PDF, with a notice and an error in the log; the next publish prints it', async () => {
    // A build half written by an execution environment that stopped during the extraction.
    await writeFile(path.join(tmpDir, 'chromium'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const failed = await publishReference();
    expect(failed.outcome).toEqual(
      expect.objectContaining({
        key,
        outcome: 'published',
        notices: [expect.stringMatching(/^no PDF: .*did not start.*upload publications\/.* again/)],
      }),
    );
    expect(await archivedPdf(slug)).toBeUndefined();
    const logged = publish.logs
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level?: string; message?: string });
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: expect.stringContaining('published without it') }),
    );
    // The broken build was removed: the next invocation extracts it again and prints.
    const again = await publishReference();
    expect(again.outcome).not.toHaveProperty('notices');
    expect(
      Buffer.from((await archivedPdf(slug)) ?? [])
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-');
  }, 240_000);
});

/**
 * Samples, every 50 ms until `stop`, the resident memory of the processes started from
 * `executable` (Chromium and its helpers, all under this process); `stop` gives the peak in MB.
 */
function sampleChromiumMemory(executable: string): { stop(): number } {
  let peakKb = 0;
  const sample = () => {
    let totalKb = 0;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
        if (command !== executable) continue;
        const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
        totalKb += Number(rss ?? 0);
      } catch {
        // The process ended meanwhile.
      }
    }
    peakKb = Math.max(peakKb, totalKb);
  };
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.round(peakKb / 1024);
    },
  };
}
