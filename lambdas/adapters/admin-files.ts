import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { AdminTemplates } from '../core/admin/pages.ts';
import type { ReleaseSources } from '../core/admin/releases.ts';
import type { SourceFiles } from '../core/publication/load.ts';
import { languages } from '../core/publication/schema.ts';
import { defaultTemplatesDir } from './template-files.ts';

/**
 * The admin's files on disk: its templates (pressroom's own `templates/admin/`: the admin is
 * not themed by a workspace's templates), and the workspace's publication files.
 */

const strings = z.record(z.string(), z.string());

/** Reads `templates/admin/`: pages, locale strings, the script and the style sheet. */
export async function loadAdminTemplates(
  dir = path.join(defaultTemplatesDir, 'admin'),
): Promise<AdminTemplates> {
  const read = (name: string) => readFile(path.join(dir, name), 'utf8');
  const locales = {} as AdminTemplates['locales'];
  for (const lang of languages) {
    const file = path.join(dir, 'locales', `${lang}.yaml`);
    const parsed = strings.safeParse(parse(await read(path.join('locales', `${lang}.yaml`))));
    if (!parsed.success) throw new Error(`${file}: every entry must be a string (${parsed.error.message})`);
    locales[lang] = parsed.data;
  }
  return {
    pages: {
      layout: await read('layout.html.hbs'),
      signIn: await read('sign-in.html.hbs'),
      releases: await read('releases.html.hbs'),
      release: await read('release.html.hbs'),
      edit: await read('edit.html.hbs'),
      fields: await read('fields.html.hbs'),
      create: await read('create.html.hbs'),
      archive: await read('archive.html.hbs'),
      notFound: await read('not-found.html.hbs'),
    },
    locales,
    assets: {
      'admin.js': { type: 'text/javascript; charset=utf-8', body: await read('admin.js') },
      'admin.css': { type: 'text/css; charset=utf-8', body: await read('admin.css') },
    },
  };
}

/** `text` in a new file of `folder`, not yet under its name. */
async function temporaryFile(folder: string, name: string, text: string): Promise<string> {
  const temp = path.join(folder, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, text, { flag: 'wx' });
  return temp;
}

/**
 * Creates `folder/name` with `text`, whole or not at all, never over a file: written under a
 * hidden name, then linked under its own (link() fails when the name is taken; rename would
 * replace it). `exists` when the name is taken.
 */
export async function createFileOnce(
  folder: string,
  name: string,
  text: string,
): Promise<'created' | 'exists'> {
  await mkdir(folder, { recursive: true });
  const temp = await temporaryFile(folder, name, text);
  try {
    await link(temp, path.join(folder, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  return 'created';
}

/**
 * The publication files of a workspace: the `.md` files directly in its `publications/`
 * folder (none when there is no such folder, or no workspace: `serve --data-dir` outside
 * one), read inside the workspace by `files`.
 */
export function workspaceReleaseSources(
  workspaceRoot: string | undefined,
  files: SourceFiles,
): ReleaseSources {
  const folder = path.join(workspaceRoot ?? process.cwd(), 'publications');
  return {
    folder,
    files,
    // Written whole, then linked under its name: link() fails when the name is taken, so a
    // file is never replaced (rename would).
    async create(name, text) {
      if (workspaceRoot === undefined)
        throw new Error('no workspace: run `pressroom serve` inside one (`pressroom init` makes one)');
      if (path.basename(name) !== name || name.startsWith('.') || !name.endsWith('.md'))
        throw new Error(`"${name}" is not a publication file name`);
      if ((await createFileOnce(folder, name, text)) === 'exists') return 'exists';
      return { path: path.join(folder, name), name: path.join('publications', name) };
    },
    async organizations() {
      if (workspaceRoot === undefined) return [];
      const dir = path.join(workspaceRoot, 'organizations');
      const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      const found = [];
      for (const name of names.filter((n) => n.endsWith('.yaml')).sort()) {
        const id = name.slice(0, -'.yaml'.length);
        // The name shown beside the id; a file that does not parse is still listed by its id.
        let title = id;
        try {
          const data = parse(await readFile(path.join(dir, name), 'utf8')) as { name?: unknown } | null;
          if (typeof data?.name === 'string') title = data.name;
        } catch {}
        found.push({ id, name: title });
      }
      return found;
    },
    // Written beside it, then renamed over it: readers see the old file or the new one, whole.
    async write(file, text) {
      const target = path.join(folder, path.basename(file.path));
      if (target !== file.path) throw new Error(`${file.path} is not a publication of ${folder}`);
      const temp = await temporaryFile(folder, path.basename(target), text);
      await rename(temp, target).catch(async (error: unknown) => {
        await unlink(temp).catch(() => {});
        throw error;
      });
    },
    async list() {
      if (workspaceRoot === undefined) return [];
      const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      return entries
        .filter((e) => e.isFile() && e.name.endsWith('.md') && !e.name.startsWith('.'))
        .map((e) => ({
          path: path.join(folder, e.name),
          name: path.join('publications', e.name),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
