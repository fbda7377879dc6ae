import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import {
  type FoundBrowser,
  findBrowser,
  launchBrowser,
  npmChromium,
} from '../../lambdas/adapters/browser.ts';
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

/**
 * The Chromium of @sparticuz/chromium with fontconfig pointed at the fonts it ships only (Open
 * Sans), as on a bare image with Node only: whatever fonts the machine has, text is drawn the
 * same. The fontconfig file and its cache go into `work`. Fails loudly, saying why, where that
 * build cannot run (it is Linux x64 only); `need` says what for.
 */
export async function shippedFontsChromium(
  work: string,
  need: string,
  options: { antialias?: boolean } = {},
): Promise<FoundBrowser> {
  let npm: FoundBrowser;
  try {
    npm = await npmChromium();
  } catch (error) {
    throw new Error(
      `${need} the Chromium of @sparticuz/chromium, which cannot be used here: ${(error as Error).message}. It needs \`npm ci\` on Linux x64; CHROMIUM_PATH and a system Chromium do not count here`,
      { cause: error },
    );
  }
  if (!npm.fontsDir) throw new Error('npmChromium() gave no fonts folder');
  const onlyShipped = path.join(work, 'fonts.conf');
  // No <include> of /etc/fonts and no system folder: the shipped fonts only.
  await writeFile(
    onlyShipped,
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>${npm.fontsDir}</dir>
  <cachedir>${path.join(work, 'fontconfig-cache')}</cachedir>${
    options.antialias === false
      ? `
  <match target="font"><edit name="antialias" mode="assign"><bool>false</bool></edit></match>`
      : ''
  }
</fontconfig>
`,
  );
  return { ...npm, env: { ...npm.env, FONTCONFIG_FILE: onlyShipped } };
}
