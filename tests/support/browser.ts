import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { chromiumArgs, defaultChromiumPath } from '../../lambdas/adapters/chromium-pdf.ts';
import { repo } from './cli.ts';

/** The machine's chromium (Debian's by default), the one the PDF printer uses. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? defaultChromiumPath;
/** Where browser tests save their screenshots. */
export const screenshotsDir = path.join(repo, 'test-output', 'screenshots');

/** Fails, saying how to install it, when there is no chromium at `chromiumPath`; `need` says what for. */
export function requireChromium(need = 'the browser tests need it and do not download browsers'): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `No chromium at ${chromiumPath}: ${need}.\n` +
        '  Install it with:  apt-get install -y chromium   (Debian/Ubuntu; as root or with sudo)\n' +
        '  or point CHROMIUM_PATH at a Chromium/Chrome executable.\n' +
        '  Never run `npx playwright install` here.',
    );
  }
}

/** Launches that chromium with the PDF printer's flags, through playwright-core; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  try {
    return await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  } catch (error) {
    throw new Error(
      `Could not launch chromium at ${chromiumPath} (install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH): ${String(error)}`,
    );
  }
}
