import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { packageFile } from '../../lambdas/adapters/package-files.ts';
import { findWorkspaceRoot, workspaceFileName } from '../../lambdas/adapters/workspace-root.ts';
import { sender } from '../../lambdas/core/campaigns/campaign.ts';
import { isTimeZone, showTime } from '../../lambdas/core/campaigns/time.ts';
import { PressroomError, UsageError } from '../../lambdas/core/errors.ts';
import type { Language } from '../../lambdas/core/publication/schema.ts';
import { slugify } from '../../lambdas/core/publication/slug.ts';
import { parseWorkspaceFile } from '../../lambdas/core/workspace/settings.ts';
import type { InitOptions } from '../commands/init.ts';
import { print, shortPath } from '../output.ts';

/** The starter files, one set per language: real files with {{placeholders}}, not strings in code. */
const starterDir = packageFile('templates/workspace/');
/** The JSON Schemas editors validate pressroom.yaml and organisation files with. */
const schemasDir = packageFile('schemas/');

/** What each language names its example files and lists. */
const names: Record<
  Language,
  { release: string; contacts: string; campaign: string; letter: (n: string) => string; organization: string }
> = {
  fr: {
    release: 'premier-communique',
    contacts: 'journalistes.csv',
    campaign: 'premier-communique-presse.yaml',
    letter: (n) => `La lettre de ${n}`,
    organization: 'Mon organisation',
  },
  en: {
    release: 'first-release',
    contacts: 'journalists.csv',
    campaign: 'first-release-press.yaml',
    letter: (n) => `The ${n} newsletter`,
    organization: 'My organisation',
  },
};

/** `{{key}}` is replaced by the value, `{{yaml:key}}` by the value quoted for YAML. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(yaml:)?(\w+)\}\}/g, (_, yaml: string | undefined, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`starter template: no value for {{${key}}}`);
    return yaml ? JSON.stringify(value) : value;
  });
}

/** Writes a file that does not exist yet; false when one is already there (it is kept). */
async function create(file: string, content: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Adds the store and output lines to a .gitignore, keeping what it holds. */
async function ignoreStore(file: string, lines: string): Promise<'created' | 'updated' | 'kept'> {
  let current: string;
  try {
    current = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return (await create(file, lines)) ? 'created' : 'kept';
  }
  const have = new Set(current.split(/\r?\n/).map((l) => l.trim()));
  const missing = lines.split('\n').filter((l) => l.startsWith('/') && !have.has(l));
  if (missing.length === 0) return 'kept';
  await appendFile(file, `${current.endsWith('\n') || current === '' ? '' : '\n'}${lines}`);
  return 'updated';
}

/** Creates a workspace in `dir`; returns what was written and what was already there. */
export async function initWorkspace(
  dir: string,
  options: InitOptions,
): Promise<{ root: string; created: string[]; kept: string[]; insideWorkspace?: string }> {
  const root = path.resolve(dir);
  const settingsFile = path.join(root, workspaceFileName);
  if (findWorkspaceRoot(root) === root) {
    throw new PressroomError(
      `${shortPath(root)} is already a workspace (it has ${workspaceFileName}): edit that file, or give \`pressroom init\` another folder`,
    );
  }
  const outer = findWorkspaceRoot(path.dirname(root));
  const lang = options.language;
  const n = names[lang];
  const name = options.name ?? n.organization;
  const orgId = slugify(name, 60) || 'organization';
  const today = showTime(new Date(), options.timeZone).slice(0, 10);
  const files = {
    organization: `organizations/${orgId}.yaml`,
    publication: `publications/${today}-${n.release}.md`,
    contacts: `contacts/${n.contacts}`,
    campaign: `campaigns/${n.campaign}`,
  };
  const schemasFrom = (sub: string) =>
    path.relative(path.join(root, sub), schemasDir).split(path.sep).join('/') || '.';
  const values = {
    name,
    orgId,
    today,
    timeZone: options.timeZone,
    publicUrl: options.publicUrl,
    sender: options.sender ?? `${name} <${lang === 'fr' ? 'presse' : 'press'}@example.org>`,
    letterTitle: n.letter(name),
    title: lang === 'fr' ? `Premier communiqué de ${name}` : `${name} issues its first release`,
    publicationFile: files.publication,
    contactsFile: files.contacts,
    campaignFile: files.campaign,
  };
  const starter = (file: string) => readFile(path.join(starterDir, lang, file), 'utf8');
  const settings = fill(await starter('pressroom.yaml'), { ...values, schemas: schemasFrom('.') });
  // The file is checked before anything is written: init never leaves a workspace that fails.
  parseWorkspaceFile(settings, workspaceFileName, { organizationExists: () => true });
  const contents: [string, string][] = [
    [
      files.organization,
      fill(await starter('organization.yaml'), { ...values, schemas: schemasFrom('organizations') }),
    ],
    [files.publication, fill(await starter('publication.md'), values)],
    [files.contacts, fill(await starter('contacts.csv'), values)],
    [files.campaign, fill(await starter('campaign.yaml'), values)],
  ];
  const created: string[] = [];
  const kept: string[] = [];
  const gitignore = await ignoreStore(
    path.join(root, '.gitignore'),
    await readFile(path.join(starterDir, 'gitignore'), 'utf8'),
  );
  (gitignore === 'kept' ? kept : created).push(
    gitignore === 'updated' ? '.gitignore (store lines added)' : '.gitignore',
  );
  for (const [file, content] of contents) {
    ((await create(path.join(root, file), content)) ? created : kept).push(file);
  }
  // pressroom.yaml last: the folder becomes a workspace once everything else is in place.
  await create(settingsFile, settings);
  created.unshift(workspaceFileName);
  return { root, created, kept, ...(outer && { insideWorkspace: outer }) };
}

/**
 * `pressroom init`: checks --time-zone and --sender (exit 2 naming the option and the value,
 * before anything is written), creates the workspace (initWorkspace) and says what is next.
 */
export async function createWorkspace(dir: string, opts: InitOptions): Promise<void> {
  if (!isTimeZone(opts.timeZone)) {
    throw new UsageError(
      `--time-zone ${JSON.stringify(opts.timeZone)} is not a time zone: give an IANA time zone such as Europe/Paris`,
    );
  }
  if (opts.sender !== undefined && !sender.safeParse(opts.sender).success) {
    throw new UsageError(
      `--sender ${JSON.stringify(opts.sender)} is not a sender: give "Display Name <address@example.org>"`,
    );
  }
  const result = await initWorkspace(dir, opts).catch((error: NodeJS.ErrnoException) => {
    // A folder that cannot be made or written (a file in the way, no permission, disk full).
    if (error.code && error.path)
      throw new PressroomError(`cannot write ${error.path} (${error.code}): choose another folder`, {
        cause: error,
      });
    throw error;
  });
  if (opts.json) return print(result, true);
  const here = path.resolve(process.cwd()) === result.root;
  const publication = result.created.concat(result.kept).find((f) => f.startsWith('publications/'));
  const campaign = result.created.concat(result.kept).find((f) => f.startsWith('campaigns/'));
  const contacts = result.created.concat(result.kept).find((f) => f.startsWith('contacts/'));
  const list = opts.language === 'fr' ? 'presse' : 'press';
  print([
    `Created the workspace ${shortPath(result.root)}:`,
    ...result.created.map((f) => `  ${f}`),
    ...(result.kept.length ? ['Kept (already there):', ...result.kept.map((f) => `  ${f}`)] : []),
    ...(result.insideWorkspace
      ? [
          `Note: it is inside the workspace ${shortPath(result.insideWorkspace)}; commands run in it use the new one.`,
        ]
      : []),
    '',
    'Next: edit pressroom.yaml and the examples, then',
    ...(here ? [] : [`  cd ${path.relative(process.cwd(), result.root) || '.'}`]),
    `  pressroom render ${publication}`,
    `  pressroom publish ${publication}`,
    `  pressroom contacts import ${contacts} --list ${list}`,
    `  pressroom send ${campaign}        (to the outbox: .pressroom/outbox/)`,
  ]);
}
