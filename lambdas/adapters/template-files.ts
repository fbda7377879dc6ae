import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import { parseYaml, validate } from '../core/input.ts';
import { languages } from '../core/publication/schema.ts';
import { type LocaleStrings, localeStringsSchema } from '../core/render/locale.ts';
import type { RecipientFields } from '../core/render/recipient.ts';
import type { TemplateSet } from '../core/render/templates.ts';
import { filesUnder } from './local-files.ts';
import { packageFile } from './package-files.ts';
import { findWorkspaceRoot } from './workspace-root.ts';

/** The templates shipped with pressroom: `templates/` at the top of the project. */
export const defaultTemplatesDir = packageFile('templates/');

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
 *
 * pressroom's own `templates/` is trusted. A folder the user chose (`--templates`,
 * PRESSROOM_TEMPLATES_DIR) is read like a publication's files: it must lie inside
 * `workspace` (by default the workspace of the current folder, or the current folder
 * outside any), its files regular files reached without a symbolic link.
 */
export async function loadTemplateFiles(
  dir: string = defaultTemplatesDir,
  options: { workspace?: string } = {},
): Promise<TemplateSet> {
  const readText = templateReader(dir, options.workspace);
  const read = (...parts: string[]) => readText(path.join(dir, ...parts));
  const partials: Record<string, string> = {};
  const partialsDir = path.join(dir, 'partials');
  const names = await readdir(partialsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
    throw new InvalidInputError([
      {
        file: partialsDir,
        path: '',
        message: 'no such folder: a template folder is laid out like templates/',
      },
    ]);
  });
  for (const name of names) {
    if (name.endsWith('.mjml') || name.endsWith('.hbs')) {
      partials[name.replace(/\.(mjml|hbs)$/, '')] = await read('partials', name);
    }
  }
  const locales = {} as Record<(typeof languages)[number], LocaleStrings>;
  for (const lang of languages) {
    const file = path.join(dir, 'locales', `${lang}.yaml`);
    locales[lang] = parseChecked(localeStringsSchema, await readText(file), file);
  }
  const sampleFile = path.join(dir, 'sample-recipient.yaml');
  const sampleRecipient: RecipientFields = parseChecked(
    sampleRecipientSchema,
    await readText(sampleFile),
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
    pressRoom: {
      list: await read('press-room', 'list.html.hbs'),
      // Code, not looks: from pressroom's own templates when a chosen folder has none.
      search: {
        library: await readOwn(readText, dir, 'press-room/minisearch.js'),
        script: await readOwn(readText, dir, 'press-room/search.js'),
      },
    },
    pages: { public: await read('pages', 'public.html.hbs'), proof: await read('pages', 'proof.html.hbs') },
    subscription: {
      email: await read('subscription', 'confirm.html.hbs'),
      text: await read('subscription', 'confirm.txt.hbs'),
    },
    partials,
    locales,
    sampleRecipient,
  };
}

/**
 * A file of the template folder `dir`, or pressroom's own when that folder has none (a folder
 * copied from templates/ before the file existed).
 */
async function readOwn(readText: (file: string) => Promise<string>, dir: string, name: string) {
  try {
    return await readText(path.join(dir, name));
  } catch (error) {
    if (path.resolve(dir) === path.resolve(defaultTemplatesDir)) throw error;
    return readFile(path.join(defaultTemplatesDir, name), 'utf8');
  }
}

/** How the files of a template folder are read: directly for pressroom's own, checked for the user's. */
function templateReader(dir: string, workspace: string | undefined): (file: string) => Promise<string> {
  if (path.resolve(dir) === path.resolve(defaultTemplatesDir)) return (file) => readFile(file, 'utf8');
  const root = workspace ?? findWorkspaceRoot(process.cwd()) ?? process.cwd();
  const files = filesUnder(root);
  return async (file) => {
    const bytes = await files.readBytes(file);
    if (bytes === undefined) {
      throw new InvalidInputError([
        { file, path: '', message: 'template file not found: a template folder is laid out like templates/' },
      ]);
    }
    return new TextDecoder().decode(bytes);
  };
}

function parseChecked<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const result = validate(schema, parseYaml(text, file));
  if (!result.ok) throw new InvalidInputError(result.problems);
  return result.value;
}
