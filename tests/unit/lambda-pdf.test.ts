import { describe, expect, it } from 'vitest';
import { LambdaPdfPrinter } from '../../lambdas/adapters/lambda-pdf.ts';
import { PdfUnavailableError } from '../../lambdas/core/archive/publish.ts';

/** A stand-in for ChromiumPdfPrinter: prints as told, and counts its closes. */
function fakeChromium(print: () => Promise<Uint8Array>) {
  const fake = { closes: 0, print, close: async () => void fake.closes++ };
  return fake;
}

describe('the publish function printer', () => {
  it('gives the PDF and stops Chromium after each print', async () => {
    const chromium = fakeChromium(async () => new Uint8Array([37, 80, 68, 70]));
    const printer = new LambdaPdfPrinter(1000, chromium);
    expect(await printer.print('<p>x</p>')).toEqual(new Uint8Array([37, 80, 68, 70]));
    expect(chromium.closes).toBe(1);
  });

  it('turns a print that takes longer than its budget into PdfUnavailableError, and stops Chromium', async () => {
    const chromium = fakeChromium(() => new Promise(() => {}));
    const printing = new LambdaPdfPrinter(50, chromium).print('<p>x</p>');
    await expect(printing).rejects.toThrow(PdfUnavailableError);
    await expect(printing).rejects.toThrow('Chromium did not print within 0.05 s');
    expect(chromium.closes).toBe(1);
  });

  it('turns any other failure into PdfUnavailableError: the release is published without its PDF', async () => {
    const chromium = fakeChromium(async () => {
      throw new Error('Target page, context or browser has been closed');
    });
    const printing = new LambdaPdfPrinter(1000, chromium).print('<p>x</p>');
    await expect(printing).rejects.toThrow(
      'Chromium failed to print: Target page, context or browser has been closed',
    );
    await expect(printing).rejects.toBeInstanceOf(PdfUnavailableError);
    expect(chromium.closes).toBe(1);
  });
});
