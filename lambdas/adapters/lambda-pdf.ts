import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type PdfPrinter, PdfUnavailableError, type PrintedDocument } from '../core/archive/publish.ts';
import { BrowserLaunchError, lambdaChromium } from './browser.ts';
import { ChromiumPdfPrinter } from './chromium-pdf.ts';

/**
 * The publish function's printer: the same `ChromiumPdfPrinter` as the command line's, with
 * the Chromium of the function's layer (`lambdaChromium`). Nobody watches a Lambda function
 * print, and a release must not wait for its PDF: any failure (Chromium missing, crashing, or
 * not done within `budgetMs`) is a `PdfUnavailableError`, so the release is published without
 * a PDF and the handler says why. Chromium is started for each print and stopped after it:
 * between invocations the execution environment is frozen, and a browser kept across them
 * could be found dead or holding memory. A build that does not start is deleted, so that the
 * next print extracts it again: @sparticuz/chromium takes any /tmp/chromium for a whole one,
 * and an execution environment stopped during the extraction leaves half of one.
 */
export class LambdaPdfPrinter implements PdfPrinter {
  constructor(
    private readonly budgetMs: number,
    private readonly printer: PdfPrinter & { close(): Promise<void> } = new ChromiumPdfPrinter(
      lambdaChromium,
    ),
  ) {}

  async print(html: string, document?: PrintedDocument): Promise<Uint8Array> {
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PdfUnavailableError(`Chromium did not print within ${this.budgetMs / 1000} s`)),
        this.budgetMs,
      );
    });
    try {
      return await Promise.race([this.printer.print(html, document), overdue]);
    } catch (error) {
      if (error instanceof PdfUnavailableError && error.cause instanceof BrowserLaunchError)
        await rm(path.join(os.tmpdir(), 'chromium'), { force: true });
      if (error instanceof PdfUnavailableError) throw error;
      throw new PdfUnavailableError(`Chromium failed to print: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      // Stopping the browser also ends a print that ran out of time.
      await this.printer.close().catch(() => undefined);
    }
  }
}
