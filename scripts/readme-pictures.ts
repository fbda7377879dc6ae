/**
 * The README's pictures, made from the demo (`npm start` first): the seed release's email as
 * a journalist reads it on a phone, and its page in the press room on a laptop screen.
 * Run with `npx tsx scripts/readme-pictures.ts [demo-folder]`; writes docs/images/*.png.
 */
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findBrowser, launchBrowser } from '../lambdas/adapters/browser.ts';

const demo = process.argv[2] ?? process.env.PRESSROOM_DEMO_DIR ?? path.join(tmpdir(), 'pressroom-demo');
const out = path.resolve(import.meta.dirname, '../docs/images');
const slug = 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes';

const browser = await launchBrowser(await findBrowser({ chromiumPath: process.env.CHROMIUM_PATH }));
try {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto(pathToFileURL(path.join(demo, 'out', slug, 'preview.html')).href);
  await phone.screenshot({ path: path.join(out, 'email-phone.png') });

  const laptop = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await laptop.goto(pathToFileURL(path.join(demo, '.pressroom/site/releases', slug, 'index.html')).href);
  await laptop.screenshot({ path: path.join(out, 'press-room-page.png') });
  await laptop.goto(pathToFileURL(path.join(demo, '.pressroom/site/index.html')).href);
  await laptop.screenshot({ path: path.join(out, 'press-room-index.png') });
} finally {
  await browser.close();
}
process.stdout.write(`${(await readdir(out)).map((f) => path.join(out, f)).join('\n')}\n`);
