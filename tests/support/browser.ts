import path from 'node:path';
import type { Browser } from 'playwright-core';
import { type FoundBrowser, findBrowser, launchBrowser } from '../../lambdas/adapters/browser.ts';
import { repo } from './cli.ts';

/** Where browser tests save their screenshots. */
export const screenshotsDir = path.join(repo, 'test-output', 'screenshots');

/**
 * The browser the PDF printer would use (CHROMIUM_PATH, a system Chromium, or the one in
 * @sparticuz/chromium, extracted on first use). Fails loudly, saying what was tried and how
 * to fix it, when there is none; `need` says what for.
 */
export async function requireChromium(
  need = 'the browser tests need one and never download browsers',
): Promise<FoundBrowser> {
  try {
    return await findBrowser({ chromiumPath: process.env.CHROMIUM_PATH });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n(${need}; never run \`npx playwright install\` here)`, {
      cause: error,
    });
  }
}

/** Launches that browser with the PDF printer's flags, through playwright-core; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  return launchBrowser(await requireChromium());
}
