import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import { parseYaml, validate } from '../core/input.ts';
import { languages } from '../core/publication/schema.ts';
import { type LocaleStrings, localeStringsSchema } from '../core/render/locale.ts';
import type { RecipientFields } from '../core/render/recipient.ts';
import type { TemplateSet } from '../core/render/templates.ts';

/** The templates shipped with pressroom: `templates/` at the top of the project. */
export const defaultTemplatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

const sampleRecipientSchema = z.strictObject({
  recipient: z.strictObject({
    email: z.email(),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    fullName: z.string().optional(),
  }),
  unsubscribeUrl: z.url(),
});

/**
 * Reads a template folder laid out as `templates/`: `press-release/email.mjml`,
 * `press-release/email.txt.hbs`, `press-release/page.html.hbs`, the same three under
 * `newsletter/`, `partials/*.mjml`,
 * `locales/<lang>.yaml`, `sample-recipient.yaml`.
 */
export async function loadTemplateFiles(dir: string = defaultTemplatesDir): Promise<TemplateSet> {
  const read = (...parts: string[]) => readFile(path.join(dir, ...parts), 'utf8');
  const partials: Record<string, string> = {};
  for (const name of await readdir(path.join(dir, 'partials'))) {
    if (name.endsWith('.mjml') || name.endsWith('.hbs')) {
      partials[name.replace(/\.(mjml|hbs)$/, '')] = await read('partials', name);
    }
  }
  const locales = {} as Record<(typeof languages)[number], LocaleStrings>;
  for (const lang of languages) {
    const file = path.join(dir, 'locales', `${lang}.yaml`);
    locales[lang] = parseChecked(localeStringsSchema, await readFile(file, 'utf8'), file);
  }
  const sampleFile = path.join(dir, 'sample-recipient.yaml');
  const sampleRecipient: RecipientFields = parseChecked(
    sampleRecipientSchema,
    await readFile(sampleFile, 'utf8'),
    sampleFile,
  );
  return {
    pressRelease: {
      email: await read('press-release', 'email.mjml'),
      text: await read('press-release', 'email.txt.hbs'),
      page: await read('press-release', 'page.html.hbs'),
    },
    newsletter: {
      email: await read('newsletter', 'email.mjml'),
      text: await read('newsletter', 'email.txt.hbs'),
      page: await read('newsletter', 'page.html.hbs'),
    },
    pressRoom: { list: await read('press-room', 'list.html.hbs') },
    pages: { public: await read('pages', 'public.html.hbs') },
    subscription: {
      email: await read('subscription', 'confirm.html.hbs'),
      text: await read('subscription', 'confirm.txt.hbs'),
    },
    partials,
    locales,
    sampleRecipient,
  };
}

function parseChecked<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const result = validate(schema, parseYaml(text, file));
  if (!result.ok) throw new InvalidInputError(result.problems);
  return result.value;
}
