import path from 'node:path';
import { InvalidInputError, type Problem } from '../errors.ts';
import { formatPath, type LocatedYaml, parseYaml, splitFrontMatter, validate } from '../input.ts';
import {
  type Attachment,
  type Organization,
  organizationSchema,
  type Publication,
  type Publisher,
  publicationFrontMatterSchema,
} from './schema.ts';
import { slugify } from './slug.ts';

/** Read access to the files of a workspace (publications, organisations, attachments). */
export interface SourceFiles {
  /** The file's text (UTF-8), or undefined when there is no such file. */
  readText(file: string): Promise<string | undefined>;
  /** The file's size in bytes, or undefined when there is no such file. */
  size(file: string): Promise<number | undefined>;
  /** The file's bytes (attachments). */
  readBytes(file: string): Promise<Uint8Array>;
}

/** Where organisation ids are looked up, in order, for a publication file. */
export function organizationSearchPaths(publicationFile: string, id: string): string[] {
  const dir = path.dirname(publicationFile);
  return [path.join(dir, 'organizations', `${id}.yaml`), path.join(dir, '..', 'organizations', `${id}.yaml`)];
}

/**
 * Reads and validates a publication file, resolves its organisations and checks its
 * attachments. Every problem found is reported at once, in an InvalidInputError.
 */
export async function loadPublication(file: string, files: SourceFiles): Promise<Publication> {
  const text = await files.readText(file);
  if (text === undefined) {
    throw new InvalidInputError([{ file, path: '', message: 'file not found: check the path' }]);
  }
  const { yaml, yamlFirstLine, body } = splitFrontMatter(text, file);
  const parsed = parseYaml(yaml, file, yamlFirstLine);
  const checked = validate(publicationFrontMatterSchema, parsed);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const fm = checked.value;
  const problems: Problem[] = [];

  const publishers = await resolvePublishers(file, fm.publishers, files, problems, parsed);

  const attachments: Attachment[] = [];
  for (const [i, a] of (fm.attachments ?? []).entries()) {
    const size = await files.size(path.join(path.dirname(file), a.file));
    if (size === undefined) {
      problems.push({
        file,
        ...parsed.locate(['attachments', i]),
        path: formatPath(['attachments', i, 'file']),
        message: `attachment not found at ${path.join(path.dirname(file), a.file)}: paths are relative to the publication file`,
        value: a.file,
      });
      continue;
    }
    attachments.push({ file: a.file, label: a.label ?? path.basename(a.file), size });
  }

  const slug = fm.slug ?? slugify(fm.title);
  if (!slug) {
    problems.push({
      file,
      ...parsed.locate(['title']),
      path: 'title',
      message: 'gives an empty slug (no letters or digits): add a "slug" field',
      value: fm.title,
    });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);

  return {
    slug,
    title: fm.title,
    ...(fm.subtitle !== undefined && { subtitle: fm.subtitle }),
    date: fm.date,
    ...(fm.embargo !== undefined && { embargo: fm.embargo }),
    ...(fm.place !== undefined && { place: fm.place }),
    lang: fm.lang,
    lead: fm.lead,
    body: body.trim(),
    publishers,
    quotes: fm.quotes ?? [],
    figures: fm.figures ?? [],
    links: fm.links ?? [],
    attachments,
    ...(fm.author !== undefined && { author: fm.author }),
    tags: fm.tags ?? [],
    visibility: fm.visibility,
    source: file,
  };
}

/**
 * The `publishers` of a file (publication or newsletter issue): organisation ids read from
 * their files, inline organisations given an id from their name. Problems are collected,
 * with the positions of `parsed`.
 */
export async function resolvePublishers(
  file: string,
  entries: readonly (string | Organization)[],
  files: SourceFiles,
  problems: Problem[],
  parsed: LocatedYaml,
): Promise<Publisher[]> {
  const publishers: Publisher[] = [];
  for (const [i, entry] of entries.entries()) {
    if (typeof entry !== 'string') {
      publishers.push({ id: slugify(entry.name), ...entry });
      continue;
    }
    const found = await loadOrganization(file, entry, files, problems, parsed, ['publishers', i]);
    if (found) publishers.push({ id: entry, ...found });
  }
  return publishers;
}

async function loadOrganization(
  publicationFile: string,
  id: string,
  files: SourceFiles,
  problems: Problem[],
  parsed: LocatedYaml,
  at: (string | number)[],
): Promise<Organization | undefined> {
  const candidates = organizationSearchPaths(publicationFile, id);
  for (const candidate of candidates) {
    const text = await files.readText(candidate);
    if (text === undefined) continue;
    try {
      const org = validate(organizationSchema, parseYaml(text, candidate));
      if (org.ok) return org.value;
      problems.push(...org.problems);
    } catch (error) {
      if (error instanceof InvalidInputError) problems.push(...error.problems);
      else throw error;
    }
    return undefined;
  }
  problems.push({
    file: publicationFile,
    ...parsed.locate(at),
    path: formatPath(at),
    message: `unknown organisation "${id}": no file ${candidates.join(' or ')}. Create it, fix the id, or write the organisation inline`,
    value: id,
  });
  return undefined;
}
