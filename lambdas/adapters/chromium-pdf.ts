import type { Browser } from 'playwright-core';
import { type PdfPrinter, PdfUnavailableError, type PrintedDocument } from '../core/archive/publish.ts';
import { PressroomError } from '../core/errors.ts';
import { type FoundBrowser, findBrowser, launchBrowser } from './browser.ts';

/**
 * Prints pages to PDF through playwright-core with the browser `findBrowser` finds
 * (CHROMIUM_PATH, a system Chromium, or the one in @sparticuz/chromium); no browser is ever
 * downloaded. The browser starts on first use; `close` stops it. Without a browser, `print`
 * throws PdfUnavailableError and publishing goes on. `find` picks the browser (tests give
 * their own).
 *
 * The PDF is A4 with the page's print stylesheet (its `@page` margins), tagged for screen
 * readers (structure tree, `/Lang` from the page's `lang`, DisplayDocTitle), with an outline
 * from the headings, and a footer on every page: the document's title and "n / N". Chromium
 * writes only the page's `<title>` as the PDF's Title and dates the PDF when it prints it; it
 * ignores `<meta name="author">`, `description` and `keywords`. So, given a `document`, the
 * PDF is then rewritten with pdf-lib (@cantoo/pdf-lib, loaded on first use) to say what the
 * document is: see {@link describePdf}. The rewrite keeps Chromium's objects as they are (the
 * structure tree, the outline, the fonts and the text) and packs them into object streams,
 * which makes the file about a fifth smaller.
 */
export class ChromiumPdfPrinter implements PdfPrinter {
  private browser: Promise<Browser> | undefined;

  constructor(private readonly find: () => Promise<FoundBrowser> = () => findBrowser()) {}

  async print(html: string, document?: PrintedDocument): Promise<Uint8Array> {
    const browser = await this.launch();
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      // Pages are self-contained; nothing may reach the network while printing.
      await page.route('**/*', (route) =>
        route.request().url().startsWith('data:') ? route.continue() : route.abort(),
      );
      await page.setContent(html, { waitUntil: 'load' });
      const pdf = await page.pdf({
        format: 'A4',
        // The page's @page rule gives the margins; these are for a page without one.
        preferCSSPageSize: true,
        margin: { top: '18mm', bottom: '20mm', left: '16mm', right: '16mm' },
        printBackground: true,
        tagged: true,
        outline: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: pageFooter(document?.title),
      });
      return document ? await describePdf(new Uint8Array(pdf), document) : new Uint8Array(pdf);
    } finally {
      await context.close();
    }
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    if (browser) await (await browser.catch(() => undefined))?.close();
  }

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      try {
        return await launchBrowser(await this.find());
      } catch (error) {
        // No browser, or one that does not start: the release is published without a PDF.
        if (error instanceof PressroomError) throw new PdfUnavailableError(error.message, { cause: error });
        throw error;
      }
    })();
    this.browser.catch(() => {
      this.browser = undefined;
    });
    return this.browser;
  }
}

/**
 * Every page's footer: the title (cut with an ellipsis when it does not fit on one line) and
 * "n / N". Chromium fills the `pageNumber` and `totalPages` spans; without a title, the
 * `title` span takes the page's `<title>`. The footer is its own little page: it sees none of
 * the page's styles, and its default type is too small to read, hence the sizes here.
 */
export function pageFooter(title: string | undefined): string {
  const titleHtml = title === undefined ? '<span class="title"></span>' : escapeHtml(title);
  return `<div style="width:100%;margin:0 16mm;display:flex;gap:8mm;justify-content:space-between;font:8.5pt/1.3 system-ui,Helvetica,Arial,sans-serif;color:#444">\
<span style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">${titleHtml}</span>\
<span style="white-space:nowrap"><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`;
}

/**
 * The PDF again with its document information rewritten from `document` (Title, Author: the
 * publishers, Subject: the lead, Keywords: the tags, CreationDate: the release's date and
 * time, ModDate: its last update when later, Creator and Producer naming pressroom), its
 * language (`/Lang`), DisplayDocTitle, and the same in an XMP metadata stream (`dc:title`,
 * `dc:creator`, `dc:description`, `dc:subject`, `dc:language`, `xmp:CreateDate`...), as
 * PDF/UA wants. Everything else is kept as it is.
 */
export async function describePdf(pdf: Uint8Array, document: PrintedDocument): Promise<Uint8Array> {
  const { PDFDict, PDFDocument, PDFName, PDFString } = await import('@cantoo/pdf-lib');
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const printedBy = doc.getProducer();
  const producer = printedBy ? `pressroom (${printedBy})` : 'pressroom';
  const lang = document.lang ?? doc.getLanguage();
  const keywords = document.keywords?.join(', ');
  doc.setTitle(document.title, { showInWindowTitleBar: true });
  if (document.authors?.length) doc.setAuthor(document.authors.join(', '));
  if (document.subject !== undefined) doc.setSubject(document.subject);
  if (keywords) doc.setKeywords([keywords]);
  if (lang) doc.setLanguage(lang);
  doc.setCreator('pressroom');
  doc.setProducer(producer);
  // pdf-lib writes dates in UTC, to the second: the release's date stays a day (or keeps its
  // time's offset) written as the PDF date syntax says (D:YYYYMMDDHHmmSSOHH'mm'). Without
  // one, Chromium's dates (when it printed) stay.
  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  const modified = document.modified ?? document.date;
  if (document.date) info.set(PDFName.of('CreationDate'), PDFString.of(pdfDate(document.date)));
  if (modified) info.set(PDFName.of('ModDate'), PDFString.of(pdfDate(modified)));
  const xmp = xmpPacket(document, { lang, producer });
  doc.catalog.set(
    PDFName.of('Metadata'),
    doc.context.register(
      doc.context.stream(new TextEncoder().encode(xmp), { Type: 'Metadata', Subtype: 'XML' }),
    ),
  );
  return doc.save({ useObjectStreams: true });
}

/**
 * An ISO date (`2021-06-08`) or date-time with its offset (`2021-06-08T08:00:00+02:00`,
 * `2021-06-08T06:00:00.000Z`) as a PDF date: `D:20210608`, `D:20210608080000+02'00'`.
 */
export function pdfDate(iso: string): string {
  const parts =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(iso);
  if (!parts) throw new TypeError(`not an ISO date or date-time with an offset: "${iso}"`);
  const [, year, month, day, hour, minute, second = '00', offset] = parts;
  const time =
    hour === undefined
      ? ''
      : `${hour}${minute}${second}${offset === 'Z' ? 'Z' : `${offset?.slice(0, 3)}'${offset?.slice(4)}'`}`;
  return `D:${year}${month}${day}${time}`;
}

/** The XMP packet of a document: Dublin Core, XMP basic and PDF properties, text escaped. */
function xmpPacket(
  d: PrintedDocument,
  { lang, producer }: { lang?: string | undefined; producer: string },
): string {
  const x = escapeHtml;
  // To the second, like the document information's dates.
  const modified = (d.modified ?? d.date)?.replace(/\.\d+(?=Z|[+-]\d)/, '');
  const li = (values: readonly string[]) => values.map((v) => `<rdf:li>${x(v)}</rdf:li>`).join('');
  const alt = (value: string) => `<rdf:Alt><rdf:li xml:lang="x-default">${x(value)}</rdf:li></rdf:Alt>`;
  const properties = [
    '<dc:format>application/pdf</dc:format>',
    `<dc:title>${alt(d.title)}</dc:title>`,
    d.authors?.length && `<dc:creator><rdf:Seq>${li(d.authors)}</rdf:Seq></dc:creator>`,
    d.subject !== undefined && `<dc:description>${alt(d.subject)}</dc:description>`,
    d.keywords?.length && `<dc:subject><rdf:Bag>${li(d.keywords)}</rdf:Bag></dc:subject>`,
    lang && `<dc:language><rdf:Bag>${li([lang])}</rdf:Bag></dc:language>`,
    d.date && `<dc:date><rdf:Seq>${li([d.date])}</rdf:Seq></dc:date>`,
    d.date && `<xmp:CreateDate>${x(d.date)}</xmp:CreateDate>`,
    modified && `<xmp:ModifyDate>${x(modified)}</xmp:ModifyDate>`,
    modified && `<xmp:MetadataDate>${x(modified)}</xmp:MetadataDate>`,
    '<xmp:CreatorTool>pressroom</xmp:CreatorTool>',
    `<pdf:Producer>${x(producer)}</pdf:Producer>`,
    d.keywords?.length && `<pdf:Keywords>${x(d.keywords.join(', '))}</pdf:Keywords>`,
  ].filter(Boolean);
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
${properties.join('\n')}
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>`;
}

/** Text as HTML or XML text or attribute: the five markup characters escaped. */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
