import path from 'node:path';
import { InvalidInputError, type Problem } from '../errors.ts';
import { type FieldPath, parseYaml, splitFrontMatter, validate } from '../input.ts';
import { resolvePublishers, type SourceFiles } from '../publication/load.ts';
import { slugify } from '../publication/slug.ts';
import { issueFrontMatterSchema, type NewsletterIssue } from './schema.ts';

/** A loaded issue, and where each of its fields was written (for problems found later). */
export interface LoadedIssue {
  issue: NewsletterIssue;
  /** `file:line` of a field, e.g. `['items', 2]`, for problems found against the archive. */
  locate(path: FieldPath): { line: number; column: number } | undefined;
}

/**
 * The id of an issue written without `id`: its file name without `.md`, as a slug
 * (`examples/newsletters/2024-03-lettre.md` → `2024-03-lettre`).
 */
export function issueIdOf(file: string): string {
  return slugify(path.basename(file).replace(/\.(md|markdown)$/i, ''), 120);
}

/**
 * Reads and validates a newsletter issue file and resolves its organisations. Every
 * problem found is reported at once, in an InvalidInputError. Release items are checked
 * against the archive later (`resolveIssue`), since that needs the store.
 */
export async function loadIssue(file: string, files: SourceFiles): Promise<LoadedIssue> {
  const text = await files.readText(file);
  if (text === undefined) {
    throw new InvalidInputError([{ file, path: '', message: 'file not found: check the path' }]);
  }
  const { yaml, yamlFirstLine, body } = splitFrontMatter(text, file);
  const parsed = parseYaml(yaml, file, yamlFirstLine);
  const checked = validate(issueFrontMatterSchema, parsed);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const fm = checked.value;
  const problems: Problem[] = [];
  const publishers = await resolvePublishers(file, fm.publishers, files, problems, parsed);
  const id = fm.id ?? issueIdOf(file);
  if (!id) {
    problems.push({
      file,
      line: 1,
      path: 'id',
      message: 'the file name gives an empty id (no letters or digits): add an "id" field',
    });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return {
    issue: {
      id,
      title: fm.title,
      date: fm.date,
      lang: fm.lang,
      publishers,
      intro: fm.intro,
      items: fm.items,
      events: fm.events ?? [],
      body: body.trim(),
      visibility: fm.visibility,
      source: file,
    },
    locate: (at) => parsed.locate(at),
  };
}
