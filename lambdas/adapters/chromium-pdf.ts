import type { Browser } from 'playwright-core';
import { type PdfPrinter, PdfUnavailableError } from '../core/archive/publish.ts';
import { PressroomError } from '../core/errors.ts';
import { type FoundBrowser, findBrowser, launchBrowser } from './browser.ts';

/**
 * Prints pages to PDF through playwright-core with the browser `findBrowser` finds
 * (CHROMIUM_PATH, a system Chromium, or the one in @sparticuz/chromium); no browser is ever
 * downloaded. The browser starts on first use; `close` stops it. Without a browser, `print`
 * throws PdfUnavailableError and publishing goes on. `find` picks the browser (tests give
 * their own).
 */
export class ChromiumPdfPrinter implements PdfPrinter {
  private browser: Promise<Browser> | undefined;

  constructor(private readonly find: () => Promise<FoundBrowser> = () => findBrowser()) {}

  async print(html: string): Promise<Uint8Array> {
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
        printBackground: true,
        margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' },
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
