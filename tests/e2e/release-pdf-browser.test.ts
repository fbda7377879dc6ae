/**
 * The seed release's PDF as the archive prints it (ChromiumPdfPrinter, the page's print
 * stylesheet), read back with pdf.js: pages, footers, metadata, tags and outline, every fact
 * of the seed, and blocks that must not be split across pages; and Chromium's PDF before and
 * after pdf-lib rewrites its document information, object for object the same document.
 */
import path from 'node:path';
import {
  decodePDFRawStream,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  type PDFObject,
  PDFRawStream,
  PDFRef,
} from '@cantoo/pdf-lib';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromiumPdfPrinter, describePdf, pageFooter, pdfDate } from '../../lambdas/adapters/chromium-pdf.ts';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { type PrintedDocument, printedRelease } from '../../lambdas/core/archive/publish.ts';
import type { Publication } from '../../lambdas/core/publication/schema.ts';
import { renderReleaseFiles } from '../../lambdas/core/release/render-release.ts';
import { createReleaseRenderer } from '../../lambdas/core/render/document.ts';
import { requireChromium } from '../support/browser.ts';
import { repo } from '../support/cli.ts';
import { crise } from '../support/example-releases.ts';
import { openPdf } from '../support/pdf.ts';
import { seedFacts } from '../support/seed-facts.ts';

/** What pdf.js reads in a PDF: each page's lines, the document's information and tags. */
interface ReadPdf {
  pages: string[][];
  info: Record<string, unknown>;
  /** The XMP metadata, property by property (`dc:title`...), when there is some. */
  xmp: Record<string, unknown> | undefined;
  displayDocTitle: boolean;
  marked: boolean;
  /** The roles of page 1's structure tree, depth first. */
  roles: string[];
  outline: string[];
  /** Every page's text items as the PDF says them (text, position, font), and its structure tree. */
  raw: { text: unknown[]; structure: unknown }[];
  /** The outline's titles and the pages (from 0) they go to, depth first. */
  outlineTargets: { title: string; page: number }[];
}

/** Spaces as pdf.js gives them: no-break spaces become spaces, runs of space one. */
const flat = (text: string) => text.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

async function readPdf(bytes: Uint8Array): Promise<ReadPdf> {
  const doc = await openPdf(bytes);
  try {
    const pages: string[][] = [];
    const raw: ReadPdf['raw'] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const text = content.items.map((i) => ('str' in i ? `${i.str}${i.hasEOL ? '\n' : ''}` : '')).join('');
      pages.push(text.split('\n').map(flat).filter(Boolean));
      // As the PDF says it (no NFKC: ligatures stay ﬀ). Font names are pdf.js's own, numbered
      // per document read (g_d3_f2): the number goes.
      const items = (await page.getTextContent({ disableNormalization: true })).items.map((i) =>
        'fontName' in i ? { ...i, fontName: i.fontName.replace(/^g_d\d+_/, '') } : i,
      );
      raw.push({ text: items, structure: await page.getStructTree() });
    }
    const roles: string[] = [];
    const walk = (node: { role?: string; children?: unknown[] }) => {
      if (node.role) roles.push(node.role);
      for (const child of node.children ?? []) walk(child as { role?: string; children?: unknown[] });
    };
    const tree = await (await doc.getPage(1)).getStructTree();
    if (tree) walk(tree as { role?: string; children?: unknown[] });
    // The outline, depth first: each entry's title and the page it goes to.
    type Entry = { title: string; dest: string | unknown[] | null; items: Entry[] };
    const outlineTargets: ReadPdf['outlineTargets'] = [];
    const visit = async (entries: Entry[] | null) => {
      for (const entry of entries ?? []) {
        const dest = typeof entry.dest === 'string' ? await doc.getDestination(entry.dest) : entry.dest;
        const target = dest?.[0] as { num: number; gen: number } | undefined;
        outlineTargets.push({ title: entry.title, page: target ? await doc.getPageIndex(target) : -1 });
        await visit(entry.items);
      }
    };
    await visit((await doc.getOutline()) as Entry[] | null);
    const { info, metadata } = await doc.getMetadata();
    return {
      pages,
      info: info as Record<string, unknown>,
      xmp: metadata ? Object.fromEntries(metadata) : undefined,
      displayDocTitle:
        ((await doc.getViewerPreferences()) as { DisplayDocTitle?: boolean } | null)?.DisplayDocTitle ===
        true,
      marked: (await doc.getMarkInfo())?.Marked === true,
      roles,
      outline: outlineTargets.map((entry) => flat(entry.title)),
      raw,
      outlineTargets,
    };
  } finally {
    await doc.destroy();
  }
}

/** The pages whose text holds `phrase` whole (lines joined with a space). */
function pagesWith(pdf: ReadPdf, phrase: string): number[] {
  return pdf.pages.flatMap((lines, i) => (lines.join(' ').includes(flat(phrase)) ? [i + 1] : []));
}

let printer: ChromiumPdfPrinter;
let publication: Publication;
let page: string;
let seed: ReadPdf;
/** The seed's document information, as publishing it in January 2026 gives it. */
let seedDocument: PrintedDocument;

beforeAll(async () => {
  const found = await requireChromium('the PDF tests print with it');
  printer = new ChromiumPdfPrinter(async () => found);
  const templates = await loadTemplateFiles(defaultTemplatesDir);
  const rendered = await renderReleaseFiles(path.resolve(repo, crise.file), {
    files: localFiles(),
    renderer: createReleaseRenderer(templates),
    sampleRecipient: templates.sampleRecipient,
  });
  publication = rendered.publication;
  page = rendered.rendered.page;
  seedDocument = printedRelease(publication, '2026-01-15T09:00:00.000Z');
  seed = await readPdf(await printer.print(page, seedDocument));
});

afterAll(async () => {
  await printer?.close();
});

describe('the seed release printed to PDF', () => {
  it('runs over several A4 pages, each with a footer: the title and "n / N"', () => {
    const total = seed.pages.length;
    expect(total).toBeGreaterThan(1);
    for (const [i, lines] of seed.pages.entries()) {
      expect(lines.at(-1), `footer of page ${i + 1}`).toBe(`${flat(crise.title)} ${i + 1} / ${total}`);
    }
  });

  it('says every fact of the seed exactly', () => {
    const text = flat(seed.pages.map((lines) => lines.join(' ')).join(' '));
    const missing = seedFacts.filter((fact) => !text.includes(flat(fact)));
    expect(missing).toEqual([]);
  });

  it('keeps each quote on one page, with its speaker', () => {
    expect(publication.quotes?.length).toBeGreaterThan(0);
    for (const quote of publication.quotes ?? []) {
      const [on, ...more] = pagesWith(seed, quote.text);
      expect(on, `the quote "${quote.text.slice(0, 30)}…" is whole on a page`).toBeDefined();
      expect(more).toEqual([]);
      expect(pagesWith(seed, quote.author)).toContain(on);
    }
  });

  it('keeps each organisation’s about block, press contact included, on one page', () => {
    for (const [heading, contact] of [
      ['À propos de Villes Internet', 'Contact Presse : Florence Poznanski'],
      ['À propos de Villes de France', 'Contact Presse : Adrian Philip'],
    ] as const) {
      const [on] = pagesWith(seed, heading);
      expect(on, heading).toBeDefined();
      expect(pagesWith(seed, contact)).toContain(on);
    }
  });

  it('prints the target of a web link of the body after it', () => {
    expect(flat(seed.pages.flat().join(''))).toContain(
      '(https://www.villes-internet.net/etudes/numerique-et-gestion-de-crise-locale)',
    );
  });

  it('is tagged for screen readers, in French, with an outline', () => {
    expect(seed.marked).toBe(true);
    expect(seed.info.Language).toBe('fr');
    expect(seed.roles).toEqual(expect.arrayContaining(['Document', 'H1', 'P']));
    expect(seed.outline[0]).toBe(flat(crise.title).replace('les villes', 'lesvilles'));
  });

  it('says what it is: title, publishers, lead, tags, language, the release’s date, made by pressroom', () => {
    expect(seed.info).toMatchObject({
      Title: crise.title,
      Author: 'Villes Internet, Villes de France',
      // The lead (plain text in the seed), its no-break spaces kept.
      Subject: publication.lead,
      Keywords: 'numérique, gestion de crise, villes moyennes',
      Language: 'fr',
      // The embargo lifts on the release's day at 8:00 in Paris: that is its date and time.
      CreationDate: "D:20210608080000+02'00'",
      ModDate: 'D:20260115090000Z',
      Creator: 'pressroom',
      Producer: expect.stringMatching(/^pressroom \(Skia\/PDF m\d+\)$/),
    });
    expect(pdfjs.PDFDateString.toDateObject(String(seed.info.CreationDate))?.toISOString()).toBe(
      '2021-06-08T06:00:00.000Z',
    );
    expect(seed.info.Subject).toContain('locale\u00a0: des');
    expect(seed.displayDocTitle).toBe(true);
  });

  it('says the same in its XMP metadata, as PDF/UA wants', () => {
    expect(seed.xmp).toEqual({
      'dc:format': 'application/pdf',
      'dc:title': crise.title,
      'dc:creator': ['Villes Internet', 'Villes de France'],
      'dc:description': seed.info.Subject,
      'dc:subject': ['numérique', 'gestion de crise', 'villes moyennes'],
      'dc:language': 'fr',
      'dc:date': '2021-06-08T08:00:00+02:00',
      'xmp:createdate': '2021-06-08T08:00:00+02:00',
      'xmp:modifydate': '2026-01-15T09:00:00Z',
      'xmp:metadatadate': '2026-01-15T09:00:00Z',
      'xmp:creatortool': 'pressroom',
      'pdf:producer': seed.info.Producer,
      'pdf:keywords': seed.info.Keywords,
    });
  });
});

describe('the document information pdf-lib writes after Chromium', () => {
  /** Chromium's PDF of the seed as it prints it, and the same rewritten by describePdf. */
  let printed: Uint8Array;
  let described: Uint8Array;
  beforeAll(async () => {
    printed = await printer.print(page);
    described = await describePdf(printed, seedDocument);
  });

  it('is what Chromium alone cannot write: it says no author, no subject, and dates the PDF when printed', async () => {
    const chromium = await readPdf(printed);
    expect(chromium.info.Creator).toBe('Chromium');
    expect(chromium.info.Author).toBeUndefined();
    expect(chromium.info.Subject).toBeUndefined();
    expect(chromium.xmp).toBeUndefined();
    expect(String(chromium.info.CreationDate)).not.toContain('20210608');
  });

  it('keeps the pages, their text (French accents, « », ligatures), tags and outline exactly', async () => {
    const [before, after] = [await readPdf(printed), await readPdf(described)];
    expect(after.pages.length).toBe(before.pages.length);
    // Every text item, with its position, size and font, and every page's structure tree.
    expect(after.raw).toEqual(before.raw);
    expect(after.outlineTargets).toEqual(before.outlineTargets);
    expect(after.outlineTargets.length).toBeGreaterThan(1);
    expect(after.marked).toBe(true);
    expect(after.roles).toEqual(before.roles);
    expect(after.info.Language).toBe('fr');
    const text = after.raw
      .flatMap((p) => p.text as { str: string }[])
      .map((i) => i.str)
      .join('');
    // pdf.js gives every white space as a space, no-break ones too (the fonts map their
    // glyphs to U+00A0 and U+202F: see below).
    expect(text).not.toMatch(/[\u00a0\u202f]/);
    for (const french of [
      '« Si cette crise',
      'territoires »',
      'diﬀéremment ? Les',
      'À propos de',
      'Lire l’étude : Numérique',
    ]) {
      expect(text).toContain(french);
    }
  });

  it('packs its objects into object streams: the file comes out smaller', async () => {
    const started = performance.now();
    await describePdf(printed, seedDocument);
    const ms = performance.now() - started;
    console.log(`describePdf: ${printed.length} → ${described.length} bytes, ${ms.toFixed(0)} ms`);
    expect(described.length).toBeLessThan(printed.length);
  });

  it('keeps the structure tree root, the outline and every font, embedded', async () => {
    const [before, after] = [await pdfObjects(printed), await pdfObjects(described)];
    expect(after.fonts).toEqual(before.fonts);
    // The catalog gains the XMP metadata stream, and loses nothing.
    expect(after.catalog).toEqual([...before.catalog, 'Metadata'].sort());
    expect(after.catalog).toEqual(
      expect.arrayContaining(['Lang', 'MarkInfo', 'Outlines', 'StructTreeRoot', 'ViewerPreferences']),
    );
    expect(after.fonts.length).toBeGreaterThan(0);
    expect(after.fonts.filter((f) => !f.embedded)).toEqual([]);
    // The glyphs of the no-break spaces (before « : » and inside « », narrow before ; ! ?)
    // still read as no-break spaces: a glyph maps to each (`<0062> <00A0>`).
    const cmaps = after.fonts.map((f) => f.toUnicode.toUpperCase()).join('\n');
    expect(cmaps).toMatch(/^<[0-9A-F]+> <00A0>$/m);
    expect(cmaps).toMatch(/^<[0-9A-F]+> <202F>$/m);
  });
});

/**
 * The keys of a PDF's catalog, and its fonts (base name, embedded or not, the map from its
 * glyphs to text) page by page, read with pdf-lib.
 */
async function pdfObjects(bytes: Uint8Array) {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  const catalog = doc.catalog.keys().map((k) => k.decodeText());
  const fonts: { page: number; name: string; embedded: boolean; toUnicode: string }[] = [];
  const lookup = (o: PDFObject | undefined) => (o instanceof PDFRef ? doc.context.lookup(o) : o);
  for (const [n, page] of doc.getPages().entries()) {
    const resources = lookup(page.node.Resources());
    const fontDict = resources instanceof PDFDict ? lookup(resources.get(PDFName.of('Font'))) : undefined;
    if (!(fontDict instanceof PDFDict)) continue;
    for (const ref of fontDict.values()) {
      const font = lookup(ref) as PDFDict;
      const descendants = lookup(font.get(PDFName.of('DescendantFonts')));
      const described = descendants instanceof PDFArray ? (lookup(descendants.get(0)) as PDFDict) : font;
      const descriptor = lookup(described.get(PDFName.of('FontDescriptor')));
      const embedded =
        descriptor instanceof PDFDict &&
        ['FontFile', 'FontFile2', 'FontFile3'].some((k) => descriptor.has(PDFName.of(k)));
      const cmap = lookup(font.get(PDFName.of('ToUnicode')));
      const toUnicode =
        cmap instanceof PDFRawStream ? new TextDecoder().decode(decodePDFRawStream(cmap).decode()) : '';
      fonts.push({ page: n + 1, name: String(font.get(PDFName.of('BaseFont'))), embedded, toUnicode });
    }
  }
  return { catalog: catalog.sort(), fonts };
}

describe('PDF dates', () => {
  it('are written as the PDF date syntax says: a day, or a time with its offset', () => {
    expect(pdfDate('2021-06-08')).toBe('D:20210608');
    expect(pdfDate('2021-06-08T08:00:00+02:00')).toBe("D:20210608080000+02'00'");
    expect(pdfDate('2021-12-08T08:30-05:30')).toBe("D:20211208083000-05'30'");
    expect(pdfDate('2026-01-15T09:00:00.000Z')).toBe('D:20260115090000Z');
    expect(() => pdfDate('8 juin 2021')).toThrow('not an ISO date');
  });
});

describe('the footer', () => {
  it('prints the title as text, markup and all, and gives it as it is to the metadata', async () => {
    const title = '<b>Villes & "territoires"</b> d’<i>avenir</i>';
    expect(pageFooter(title)).not.toContain('<b>');
    const pdf = await readPdf(
      await printer.print('<!doctype html><title>x</title><p>Un</p>', {
        title,
        authors: ["L'<Un> & l’autre"],
        date: '2021-06-08',
      }),
    );
    expect(pdf.pages).toEqual([['Un', `${title} 1 / 1`]]);
    expect(pdf.info).toMatchObject({ Title: title, Author: "L'<Un> & l’autre", CreationDate: 'D:20210608' });
    expect(pdf.xmp?.['dc:title']).toBe(title);
    expect(pdf.xmp?.['dc:creator']).toEqual(["L'<Un> & l’autre"]);
  });

  it('takes the page’s title when it is given none', async () => {
    const pdf = await readPdf(
      await printer.print('<!doctype html><html lang="fr"><title>Le titre</title><p>Un</p></html>'),
    );
    expect(pdf.pages).toEqual([['Un', 'Le titre 1 / 1']]);
  });
});

describe('blocks kept whole wherever the page breaks fall', () => {
  /**
   * What is split in the seed page printed with a blank block of `mm` before its body's first
   * heading, so that a page break falls at every place in turn: a quote not whole on one page,
   * a key figure not on the page of its heading, a press contact not on the page of its
   * organisation's heading. `loose` is CSS added to the print stylesheet.
   */
  async function splitBlocks(mm: number, loose = ''): Promise<string[]> {
    let html = page.replace('<h2>', `<div style="height:${mm}mm"></div><h2>`);
    if (loose) {
      html = html.replace('</style>\n</head>', `${loose}</style>\n</head>`);
      expect(html).toContain(loose);
    }
    const pdf = await readPdf(await printer.print(html, { title: publication.title }));
    const onPageOf = (heading: string, what: string) => {
      const [on] = pagesWith(pdf, heading);
      return on !== undefined && pdf.pages[on - 1]?.join(' ').includes(flat(what)) === true;
    };
    return [
      ...(publication.quotes ?? [])
        .filter((q) => pagesWith(pdf, q.text).length !== 1)
        .map((q) => `quote: ${q.text.slice(0, 30)}`),
      ...(publication.figures ?? [])
        .filter((f) => !onPageOf('Chiffres clés', `${f.value} ${f.label}`))
        .map((f) => `figure: ${f.value}`),
      ...[
        ['À propos de Villes Internet', 'Contact Presse : Florence Poznanski'],
        ['À propos de Villes de France', 'Contact Presse : Adrian Philip'],
      ]
        .filter(([heading, contact]) => !onPageOf(heading ?? '', contact ?? ''))
        .map(([heading]) => `about: ${heading}`),
    ];
  }

  const offsets = Array.from({ length: 14 }, (_, i) => i * 18);

  it('never splits a quote, the key figures from their heading, nor a press contact from its organisation', async () => {
    expect(publication.figures?.length).toBeGreaterThan(0);
    for (const mm of offsets) expect(await splitBlocks(mm), `with ${mm} mm more before`).toEqual([]);
  }, 120_000);

  it('the check can fail: without break-inside and break-after: avoid, each kind is split at some offset', async () => {
    // Widows and orphans would keep a three-line quote whole too: one line each is allowed.
    const loose = [
      'figure.quote, figure.quote p, .figures, .figures li, .about section, .about p { break-inside: auto !important; orphans: 1; widows: 1 }',
      'h2 { break-after: auto !important }',
    ].join('\n');
    const split = new Set<string>();
    for (const mm of offsets)
      for (const what of await splitBlocks(mm, loose)) split.add(what.split(':')[0] ?? '');
    expect([...split].sort()).toEqual(['about', 'figure', 'quote']);
  }, 120_000);
});
