import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { AdminTemplates } from '../core/admin/pages.ts';
import type { ReleaseSources } from '../core/admin/releases.ts';
import { NoWorkspaceError } from '../core/errors.ts';
import { parseOrganization, type SourceFiles } from '../core/publication/load.ts';
import type { Organization } from '../core/publication/schema.ts';
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
      previews: await read('previews.html.hbs'),
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

/** The names a press kit image may have (its format is checked from its bytes when it loads). */
const imageName = /\.(?:jpe?g|png|webp)$/i;

/** At most this many files are offered per folder: a form is not a file browser. */
const maxOffered = 1000;

/**
 * The regular files under `folder/sub` (`sub/a.pdf`, `sub/2024/b.png`), sorted; symbolic links
 * (to a file or a folder, inside the workspace or not), hidden files and anything else are left
 * out, so what the form offers is what loading accepts.
 */
async function regularFiles(folder: string, sub: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string, depth: number) => {
    const entries = await readdir(path.join(folder, relative), { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
        throw error;
      },
    );
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || found.length >= maxOffered) continue;
      const name = `${relative}/${entry.name}`;
      if (entry.isFile()) found.push(name);
      else if (entry.isDirectory() && depth < 4) await walk(name, depth + 1);
    }
  };
  // The folder itself must not be a link either.
  const top = await lstat(path.join(folder, sub)).catch(() => undefined);
  if (top?.isDirectory()) await walk(sub, 0);
  return found;
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
 * The organisation files of a workspace (`organizations/<id>.yaml`), by id, each checked as a
 * release's publisher is (the schema, the size, control characters): its organisation, or
 * none when it has problems (`pressroom render` reports them). None without a workspace.
 */
export async function workspaceOrganizations(
  workspaceRoot: string | undefined,
): Promise<{ id: string; organization?: Organization }[]> {
  if (workspaceRoot === undefined) return [];
  const dir = path.join(workspaceRoot, 'organizations');
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const found = [];
  for (const name of names.filter((n) => n.endsWith('.yaml') && !n.startsWith('.')).sort()) {
    const file = path.join(dir, name);
    const checked = parseOrganization(file, await readFile(file, 'utf8'));
    found.push({
      id: name.slice(0, -'.yaml'.length),
      ...('organization' in checked && { organization: checked.organization }),
    });
  }
  return found;
}

/**
 * The publication files of a workspace: the `.md` files directly in its `publications/`
 * folder (none when there is no such folder, or no workspace: `serve --data-dir` outside
 * one), read inside the workspace by `files`. `folderName` names another folder of the
 * workspace with files of the same kind (`newsletters`: the issues).
 */
export function workspaceReleaseSources(
  workspaceRoot: string | undefined,
  files: SourceFiles,
  folderName = 'publications',
): ReleaseSources {
  const folder = path.join(workspaceRoot ?? process.cwd(), folderName);
  return {
    folder,
    files,
    // Written whole, then linked under its name: link() fails when the name is taken, so a
    // file is never replaced (rename would).
    async create(name, text) {
      if (workspaceRoot === undefined) throw new NoWorkspaceError(`${folderName}/${name}`);
      if (path.basename(name) !== name || name.startsWith('.') || !name.endsWith('.md'))
        throw new Error(`"${name}" is not a publication file name`);
      if ((await createFileOnce(folder, name, text)) === 'exists') return 'exists';
      return { path: path.join(folder, name), name: path.join(folderName, name) };
    },
    async organizations() {
      // The name shown beside the id; a file with problems is still listed by its id.
      return (await workspaceOrganizations(workspaceRoot)).map(({ id, organization }) => ({
        id,
        name: organization?.name ?? id,
      }));
    },
    async pressKitFiles() {
      if (workspaceRoot === undefined) return { attachments: [], images: [] };
      const [attachments, images] = await Promise.all(
        (['attachments', 'images'] as const).map((sub) => regularFiles(folder, sub)),
      );
      return { attachments: attachments ?? [], images: (images ?? []).filter((f) => imageName.test(f)) };
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
          name: path.join(folderName, e.name),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
