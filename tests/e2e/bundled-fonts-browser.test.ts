/**
 * French text drawn by the Chromium of @sparticuz/chromium on a machine with no fonts of its
 * own. fontconfig is pointed at a file that knows only the fonts the package ships, as on a
 * bare image with Node only. Each character is drawn alone and compared with what the
 * browser draws for a character that no font has: any that falls back to that missing glyph
 * fails. The PDFs it prints are read back with pdf.js: the text extracts as it was written,
 * every font is embedded, and no glyph is the missing glyph (glyph 0, `.notdef`).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderToFolders } from '../../bin/actions/render.ts';
import { type FoundBrowser, launchBrowser } from '../../lambdas/adapters/browser.ts';
import { ChromiumPdfPrinter } from '../../lambdas/adapters/chromium-pdf.ts';
import { screenshotsDir, shippedFontsChromium } from '../support/browser.ts';
import { repo } from '../support/cli.ts';
import { crise } from '../support/example-releases.ts';

/** The characters French text needs beyond ASCII, each named for the failure message. */
const french: [string, string][] = [
  ['é', 'e acute'],
  ['è', 'e grave'],
  ['ê', 'e circumflex'],
  ['ë', 'e diaeresis'],
  ['à', 'a grave'],
  ['â', 'a circumflex'],
  ['î', 'i circumflex'],
  ['ï', 'i diaeresis'],
  ['ô', 'o circumflex'],
  ['ù', 'u grave'],
  ['û', 'u circumflex'],
  ['ü', 'u diaeresis'],
  ['ç', 'c cedilla'],
  ['œ', 'oe ligature'],
  ['æ', 'ae ligature'],
  ['«', 'opening guillemet'],
  ['»', 'closing guillemet'],
  ['’', 'typographic apostrophe'],
  ['“', 'opening quotation mark'],
  ['”', 'closing quotation mark'],
  ['—', 'em dash'],
  ['–', 'en dash'],
  ['…', 'ellipsis'],
  ['€', 'euro sign'],
  ['É', 'capital E acute'],
  ['È', 'capital E grave'],
  ['Ê', 'capital E circumflex'],
  ['À', 'capital A grave'],
  ['Ç', 'capital C cedilla'],
  ['Œ', 'capital OE ligature'],
  ['\u00a0', 'no-break space (U+00A0)'],
  ['\u202f', 'narrow no-break space (U+202F)'],
];
/** A character that no font has (private use area): it is drawn as the missing glyph. */
const noFontHasIt = '\ue000';
/** A character the shipped fonts (Open Sans) lack, drawn as the missing glyph: the control. */
const notInTheShippedFonts = '\u4e00';

/** A sentence with all of them, in the three faces the package ships. */
const sentence =
  'À l’œuvre\u202f: « Élodie », Ève et Çédric — déjà 97\u00a0contributions… Où ça ? Noël, Ægir, 10\u00a0€ “cœur” – ÊÈÀÇŒ';
const sampleHtml = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Glyphes</title></head>
<body style="font: 16px Arial, Helvetica, sans-serif">
<p>${sentence}</p><p><b>${sentence}</b></p><p><i>${sentence}</i></p>
<p style="font-family: Georgia, serif">${sentence}</p>
</body></html>`;

let work: string;
/** The npm build, seeing only the fonts it ships. */
let bare: FoundBrowser;
let browser: Browser | undefined;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'pressroom-fonts-'));
  bare = await shippedFontsChromium(work, 'these tests check');
  browser = await launchBrowser(bare);
  await mkdir(screenshotsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** One character as drawn: the pixels of its box in the screenshot, whether any is dark, its advance. */
interface Drawn {
  pixels: string;
  ink: boolean;
  width: number;
}

/**
 * Draws each character alone on a 100 px row (64 px type), takes one screenshot of the page,
 * and cuts each character's box out of it (the page decodes the PNG for us: no image library).
 */
async function drawEach(chars: string[]): Promise<Drawn[]> {
  if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
  const page = await browser.newPage({ viewport: { width: 400, height: 400 } });
  try {
    const rows = chars
      .map((c, i) => `<div style="height:100px"><span id="c${i}" style="white-space:pre">${c}</span></div>`)
      .join('');
    await page.setContent(
      `<body style="margin:0;font:64px/100px sans-serif;color:black;background:white">${rows}</body>`,
    );
    const png = (await page.screenshot({ fullPage: true })).toString('base64');
    // A string: the test files are type-checked without the DOM's types.
    return await page.evaluate<Drawn[]>(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${png}';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      return Array.from({ length: ${chars.length} }, (_, i) => {
        const box = document.getElementById('c' + i).getBoundingClientRect();
        const { data } = context.getImageData(0, i * 100, Math.max(1, Math.ceil(box.right)), 100);
        const ink = data.some((v, k) => k % 4 !== 3 && v < 160);
        return { pixels: data.join(','), ink, width: box.width };
      });
    })()`);
  } finally {
    await page.close();
  }
}

describe('the Chromium of @sparticuz/chromium with only its own fonts', () => {
  it('draws every French character with a real glyph, never the missing glyph', async () => {
    const chars = french.map(([c]) => c);
    const [missing, control, ...drawn] = await drawEach([noFontHasIt, notInTheShippedFonts, ...chars]);
    if (!missing || !control) throw new Error('nothing drawn');
    // The comparison can fail: a character the fonts lack is drawn exactly as the missing glyph.
    expect(control, 'U+4E00 should be drawn as the missing glyph').toEqual(missing);

    const wrong: string[] = [];
    for (const [i, [char, name]] of french.entries()) {
      const glyph = drawn[i];
      if (!glyph) throw new Error(`${name}: not drawn`);
      if (glyph.pixels === missing.pixels || glyph.width === missing.width) {
        wrong.push(`${name} (${char}) is drawn as the missing glyph`);
      }
      if (/\s/.test(char)) {
        if (glyph.ink || !(glyph.width > 0)) wrong.push(`${name} is not drawn as a space`);
      } else if (!glyph.ink) wrong.push(`${name} (${char}) leaves no ink`);
    }
    expect(wrong).toEqual([]);

    // The narrow no-break space is narrower than the no-break space (it is not a plain space).
    const width = (c: string) => drawn[french.findIndex(([x]) => x === c)]?.width ?? Number.NaN;
    expect(width('\u202f')).toBeLessThan(width('\u00a0'));
  });

  it('draws the sentence in regular, bold, italic and a serif request (screenshot saved)', async () => {
    if (!browser) throw new Error('the browser did not start: see the error of beforeAll');
    const page: Page = await browser.newPage({ viewport: { width: 900, height: 300 } });
    try {
      await page.setContent(sampleHtml);
      await page.screenshot({ path: path.join(screenshotsDir, 'npm-chromium-shipped-fonts-only.png') });
      // What the browser drew each paragraph with (DevTools' "rendered fonts"): Open Sans alone.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('DOM.enable');
      await cdp.send('CSS.enable');
      const { root } = await cdp.send('DOM.getDocument');
      const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: 'p' });
      expect(nodeIds).toHaveLength(4);
      for (const nodeId of nodeIds) {
        const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
        expect(fonts.map((f) => f.familyName)).toEqual(['Open Sans']);
      }
    } finally {
      await page.close();
    }
  });
});

/**
 * The text of every page as pdf.js extracts it (it turns no-break spaces into spaces), the
 * characters of the glyphs drawn (from the PDF's ToUnicode maps: no-break spaces stay), the
 * number of missing glyphs drawn, and the fonts.
 */
async function readPdf(
  bytes: Uint8Array,
): Promise<{ text: string; glyphs: string; notdef: number; fonts: PdfFont[] }> {
  const doc = await pdfjs.getDocument({ data: bytes, disableFontFace: true, useSystemFonts: false }).promise;
  try {
    let text = '';
    let glyphs = '';
    let notdef = 0;
    const fonts = new Map<string, PdfFont>();
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent({ disableNormalization: true });
      text += `${content.items.map((item) => ('str' in item ? `${item.str}${item.hasEOL ? '\n' : ''}` : '')).join('')}\n`;
      const ops = await page.getOperatorList();
      for (const [i, fn] of ops.fnArray.entries()) {
        const args = ops.argsArray[i] as unknown[];
        if (fn === pdfjs.OPS.setFont) {
          const id = String(args[0]);
          const font = page.commonObjs.get(id) as { name?: string; missingFile?: boolean };
          fonts.set(id, { name: font.name ?? '?', embedded: font.missingFile === false });
        }
        if (fn === pdfjs.OPS.showText) {
          // Chromium writes CID fonts with the identity encoding: a glyph's code is its glyph id.
          for (const glyph of args[0] as (
            | { originalCharCode?: number; unicode?: string }
            | number
            | null
          )[]) {
            if (typeof glyph !== 'object' || glyph === null) continue;
            if (glyph.originalCharCode === 0) notdef++;
            glyphs += glyph.unicode ?? '';
          }
        }
      }
    }
    return { text, glyphs, notdef, fonts: [...fonts.values()] };
  } finally {
    await doc.destroy();
  }
}

interface PdfFont {
  name: string;
  embedded: boolean;
}

describe('PDFs printed by the Chromium of @sparticuz/chromium with only its own fonts', () => {
  let printer: ChromiumPdfPrinter;
  beforeAll(() => {
    printer = new ChromiumPdfPrinter(async () => bare);
  });
  afterAll(async () => {
    await printer?.close();
  });

  it('prints the French sentence: the text reads back, fonts embedded, no missing glyph', async () => {
    const pdf = await readPdf(await printer.print(sampleHtml));
    expect(pdf.notdef).toBe(0);
    expect(pdf.fonts.length).toBeGreaterThanOrEqual(3);
    for (const font of pdf.fonts) {
      expect(font, 'each font is a subset of the shipped Open Sans, embedded').toEqual({
        name: expect.stringMatching(/^[A-Z]{6}\+OpenSans-(Regular|Bold|Italic)$/),
        embedded: true,
      });
    }
    // Lines wrap on the A4 page: they are joined again with a space. pdf.js extracts no-break
    // spaces as spaces, and the narrow one is drawn with the space glyph (Open Sans has none of
    // its own for it: the shaper draws a space half as wide), so both read back as spaces...
    const lines = pdf.text.split('\n').filter((line) => line.trim() !== '');
    // The page's footer follows: its title and "1 / 1".
    expect(lines.join(' ')).toBe(
      `${Array(4)
        .fill(sentence.replace(/[\u00a0\u202f]/g, ' '))
        .join(' ')} Glyphes 1 / 1`,
    );
    // ...but the no-break spaces are drawn with Open Sans' own no-break space glyph.
    expect(pdf.glyphs.match(/\u00a0/g)).toHaveLength(4 * (sentence.match(/\u00a0/g)?.length ?? 0));
  });

  it('prints the seed release page: its French text reads back, no missing glyph', async () => {
    const [rendered] = await renderToFolders([path.resolve(repo, crise.file)], {
      outRoot: path.join(work, 'rendered'),
    });
    if (!rendered) throw new Error('renderToFolders returned nothing');
    const pdf = await readPdf(
      await printer.print(await readFile(path.join(rendered.dir, 'page.html'), 'utf8')),
    );
    expect(pdf.notdef).toBe(0);
    expect(pdf.fonts.every((f) => f.embedded)).toBe(true);
    const text = pdf.text.replace(/\s+/g, ' ');
    expect(text).toContain(crise.title.replace(/\s+/g, ' '));
    expect(text).toContain('Les associations d’élus Villes Internet et Villes de France');
    expect(text).toContain('présidente de Villes de France');
  });

  it('the check can fail: a character the shipped fonts lack is found as a missing glyph', async () => {
    const pdf = await readPdf(await printer.print(`<p>Ville ${notInTheShippedFonts} ${noFontHasIt}</p>`));
    expect(pdf.notdef).toBe(2);
  });
});
