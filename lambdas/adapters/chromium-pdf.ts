import { access, constants } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { type PdfPrinter, PdfUnavailableError } from '../core/archive/publish.ts';

/** Flags for headless Chromium on a locked-down machine: no sandbox as root, no background traffic. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const defaultChromiumPath = '/usr/bin/chromium';

/**
 * Prints pages to PDF with the machine's Chromium (Debian's `chromium`) through
 * playwright-core; no browser is ever downloaded. The browser starts on first use; `close`
 * stops it. Without a browser, `print` throws PdfUnavailableError and publishing goes on.
 */
export class ChromiumPdfPrinter implements PdfPrinter {
  private browser: Promise<Browser> | undefined;

  constructor(private readonly executablePath: string = defaultChromiumPath) {}

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
        await access(this.executablePath, constants.X_OK);
      } catch {
        throw new PdfUnavailableError(
          `no Chromium at ${this.executablePath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
        );
      }
      const { chromium } = await import('playwright-core');
      try {
        return await chromium.launch({ executablePath: this.executablePath, args: chromiumArgs });
      } catch (error) {
        throw new PdfUnavailableError(
          `Chromium at ${this.executablePath} did not start: ${(error as Error).message.split('\n')[0]}`,
          {
            cause: error,
          },
        );
      }
    })();
    this.browser.catch(() => {
      this.browser = undefined;
    });
    return this.browser;
  }
}
