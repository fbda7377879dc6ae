import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdminNewsletterDeps } from '../core/admin/newsletters.ts';
import { defaultTemplatesDir } from './template-files.ts';

/** Reads the Newsletters section's pages (`templates/admin/newsletters-*.html.hbs`). */
export async function loadNewsletterPages(
  dir = path.join(defaultTemplatesDir, 'admin'),
): Promise<AdminNewsletterDeps['pages']> {
  const read = (name: string) => readFile(path.join(dir, name), 'utf8');
  return { list: await read('newsletters-list.html.hbs'), issue: await read('newsletters-issue.html.hbs') };
}
