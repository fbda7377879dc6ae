import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContactsTemplates } from '../core/admin/contacts-pages.ts';
import { defaultTemplatesDir } from './template-files.ts';

/** Reads the contacts pages of the admin (`templates/admin/contacts-*.html.hbs`). */
export async function loadContactsTemplates(
  dir = path.join(defaultTemplatesDir, 'admin'),
): Promise<ContactsTemplates> {
  const read = (name: string) => readFile(path.join(dir, name), 'utf8');
  return {
    list: await read('contacts-list.html.hbs'),
    profile: await read('contacts-profile.html.hbs'),
    erase: await read('contacts-erase.html.hbs'),
    importForm: await read('contacts-import-form.html.hbs'),
    importPreview: await read('contacts-import-preview.html.hbs'),
  };
}
