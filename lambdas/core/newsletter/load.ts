import path from 'node:path';
import { InvalidInputError, type Problem } from '../errors.ts';
import { type FieldPath, validate } from '../input.ts';
import {
  checkBody,
  checkMarkdownFields,
  inlineAbouts,
  readFrontMatterFile,
  resolvePublishers,
  type SourceFiles,
} from '../publication/load.ts';
import { slugify } from '../publication/slug.ts';
import { imageSource } from '../render/markdown.ts';
import { issueFrontMatterSchema, type NewsletterIssue } from './schema.ts';

/** A loaded issue, and where each of its fields was written (for problems found later). */
export interface LoadedIssue {
  issue: NewsletterIssue;
  /** `file:line` of a field, e.g. `['items', 2]`, for problems found against the archive. */
  locate(path: FieldPath): { line: number; column: number } | undefined;
  /** E.g. a file converted from Windows-1252: the command line prints them, the stack logs them. */
  notices: string[];
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
export async function loadIssue(file: string, sourceFiles: SourceFiles): Promise<LoadedIssue> {
  const files = sourceFiles.within(file);
  const notices: string[] = [];
  const { parsed, body, bodyFirstLine } = await readFrontMatterFile(file, files, notices);
  const checked = validate(issueFrontMatterSchema, parsed);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const fm = checked.value;
  const problems: Problem[] = [];
  // An issue archives no files of its own: its images are on the web.
  for (const image of checkBody(file, body, bodyFirstLine, problems)) {
    if (imageSource(image.src).kind !== 'https') {
      problems.push({
        file,
        line: image.line,
        path: 'body',
        message:
          'an image in a newsletter must be an https:// URL (an issue carries no files: put the image in a release, or online)',
        value: image.src,
      });
    }
  }
  checkMarkdownFields(
    file,
    parsed,
    [
      { path: ['intro'], value: fm.intro },
      ...fm.items.map((item, i) => ({ path: ['items', i, 'summary'], value: item.summary, inline: true })),
      ...inlineAbouts(fm.publishers),
    ],
    problems,
  );
  const publishers = await resolvePublishers(file, fm.publishers, files, problems, parsed, notices);
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
    notices,
  };
}
