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
 * readers (structure tree, `/Lang` from the page's `lang`), with an outline from the headings,
 * and a footer on every page: the document's title and "n / N". Chromium writes the page's
 * `<title>` as the PDF's Title; it ignores `<meta name="author">`, `description` and
 * `keywords`, and dates the PDF when it prints it: an author (the publishers), a subject (the
 * lead) and the release's date need a PDF library to rewrite the document information after
 * printing (pdf-lib's setAuthor, setSubject, setCreationDate keep the tags and outline).
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
      return new Uint8Array(pdf);
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

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
