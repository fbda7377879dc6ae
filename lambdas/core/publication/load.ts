import path from 'node:path';
import { InvalidInputError, type Problem, RefusedFileError } from '../errors.ts';
import {
  controlCharacterProblem,
  type FieldPath,
  formatPath,
  type LocatedYaml,
  parseYaml,
  readInputText,
  readSourceText,
  splitFrontMatter,
  validate,
} from '../input.ts';
import { publicationLimits as max, publicationFileTooLarge, showByteSize } from '../limits.ts';
import { imageSource, inspectMarkdown } from '../render/markdown.ts';
import type { StreamedBody } from '../store/object-store.ts';
import type { DecodedText } from '../text-encoding.ts';
import { extensionProblem, sniffBytes, sniffImageFormat } from './image-format.ts';
import {
  type Attachment,
  type Organization,
  organizationSchema,
  type PressImage,
  type Publication,
  type PublicationImage,
  type Publisher,
  publicationFrontMatterSchema,
} from './schema.ts';
import { slugify } from './slug.ts';

/**
 * Read access to the files of a workspace (publications, organisations, attachments,
 * images). Adapters refuse, with a RefusedFileError, any file they may not read: outside
 * the workspace, a symbolic link, not a regular file, or over the size limit.
 */
export interface SourceFiles {
  /**
   * The file's bytes, or undefined when there is no such file. A file over `maxSize` (below
   * the adapter's own limit) is refused with a FileTooLargeError before it is read.
   */
  readBytes(file: string, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /**
   * The file checked as readBytes checks it, with its size, to be read while it is written
   * (an attachment copied into the archive, never held whole); undefined when there is none.
   */
  stream(file: string): Promise<StreamedBody | undefined>;
  /** The file's size in bytes, or undefined when there is no such file. */
  size(file: string): Promise<number | undefined>;
  /**
   * The files the publication (or newsletter issue) `file` may read: only those inside its
   * workspace. Everything a publication brings is read through this.
   */
  within(publicationFile: string): SourceFiles;
}

/**
 * `files`, with `file` holding `text`: a document made in memory (a digest's newsletter
 * issue) read as if it were a file, its organisations read from `files` as usual.
 */
export function withSourceText(files: SourceFiles, file: string, text: string): SourceFiles {
  const bytes = new TextEncoder().encode(text);
  const target = path.resolve(file);
  const wrap = (inner: SourceFiles): SourceFiles => ({
    readBytes: async (f, options) => (path.resolve(f) === target ? bytes : inner.readBytes(f, options)),
    stream: (f) => inner.stream(f),
    size: async (f) => (path.resolve(f) === target ? bytes.length : inner.size(f)),
    within: (f) => wrap(inner.within(f)),
  });
  return wrap(files);
}

export interface ReadOptions {
  /** The largest file this read accepts, in bytes. */
  maxSize?: number;
}

/** Where organisation ids are looked up, in order, for a publication file. */
export function organizationSearchPaths(publicationFile: string, id: string): string[] {
  const dir = path.dirname(publicationFile);
  return [path.join(dir, 'organizations', `${id}.yaml`), path.join(dir, '..', 'organizations', `${id}.yaml`)];
}

/** A publication as loaded, and what the user should know that did not stop it. */
export interface LoadedPublication {
  publication: Publication;
  /** E.g. a file converted from Windows-1252: the command line prints them, the stack logs them. */
  notices: string[];
  /** Where a field of the front matter is written, for problems found after loading. */
  locate: LocatedYaml['locate'];
}

/**
 * Reads and validates a publication file, resolves its organisations and checks its
 * attachments and images, all inside its workspace. Every problem found is reported at
 * once, in an InvalidInputError.
 */
export async function loadPublication(file: string, sourceFiles: SourceFiles): Promise<LoadedPublication> {
  const files = sourceFiles.within(file);
  const notices: string[] = [];
  const { parsed, body, bodyFirstLine } = await readFrontMatterFile(file, files, notices);
  const checked = validate(publicationFrontMatterSchema, parsed);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const fm = checked.value;
  const problems: Problem[] = [];
  const bodyImages = checkBody(file, body, bodyFirstLine, problems);
  checkMarkdownFields(
    file,
    parsed,
    [{ path: ['lead'], value: fm.lead, inline: true }, ...inlineAbouts(fm.publishers)],
    problems,
  );

  const publishers = await resolvePublishers(file, fm.publishers, files, problems, parsed, notices);
  const dir = path.dirname(file);

  const attachments: Attachment[] = [];
  for (const [i, a] of (fm.attachments ?? []).entries()) {
    const where = {
      file,
      ...parsed.locate(['attachments', i]),
      path: formatPath(['attachments', i, 'file']),
      value: a.file,
    };
    const size = await sizeOf(files, path.join(dir, a.file), where, problems, {
      missing: `attachment not found at ${path.join(dir, a.file)}: paths are relative to the publication file`,
    });
    if (size !== undefined) attachments.push({ file: a.file, label: a.label ?? path.basename(a.file), size });
  }

  const images = await localImages(file, bodyImages, files, problems);
  const gallery = await pressImages(file, fm.images ?? [], parsed, files, problems);

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
  if (fm.translationOf !== undefined && fm.translationOf === slug) {
    problems.push({
      file,
      ...parsed.locate(['translationOf']),
      path: 'translationOf',
      message:
        'names this release itself: write the slug of the release this one translates (in another language)',
      value: fm.translationOf,
    });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);

  return {
    publication: {
      slug,
      title: fm.title,
      ...(fm.subtitle !== undefined && { subtitle: fm.subtitle }),
      date: fm.date,
      ...(fm.embargo !== undefined && { embargo: fm.embargo }),
      ...(fm.place !== undefined && { place: fm.place }),
      lang: fm.lang,
      ...(fm.translationOf !== undefined && { translationOf: fm.translationOf }),
      lead: fm.lead,
      body: body.trim(),
      publishers,
      quotes: fm.quotes ?? [],
      figures: fm.figures ?? [],
      links: fm.links ?? [],
      attachments,
      images,
      ...(gallery.length > 0 && { gallery }),
      ...(fm.author !== undefined && { author: fm.author }),
      tags: fm.tags ?? [],
      visibility: fm.visibility,
      source: file,
    },
    notices,
    locate: (at) => parsed.locate(at),
  };
}

/**
 * The body's local images (its https images stay remote), each measured inside the
 * workspace; problems at their lines for the others.
 */
async function localImages(
  file: string,
  bodyImages: readonly { src: string; line: number }[],
  files: SourceFiles,
  problems: Problem[],
): Promise<PublicationImage[]> {
  const images: PublicationImage[] = [];
  for (const image of bodyImages) {
    const source = imageSource(image.src);
    const where = { file, line: image.line, path: 'body', value: image.src };
    if (source.kind === 'https') continue;
    if (source.kind === 'refused') {
      problems.push({ ...where, message: source.reason });
      continue;
    }
    if (images.some((i) => i.file === source.file)) continue;
    if (images.length === max.images) {
      problems.push({
        ...where,
        message: `is one local image too many: at most ${max.images}; link to the others with https:// URLs`,
      });
      break;
    }
    const target = path.join(path.dirname(file), source.file);
    const size = await sizeOf(files, target, where, problems, {
      missing: `image not found at ${target}: an image is a file beside the publication (e.g. images/photo.jpg) or an https:// URL`,
    });
    if (size !== undefined) images.push({ file: source.file, size });
  }
  return images;
}

/**
 * The press kit images (`images:`), each inside the workspace, measured before anything is
 * read (over the limit: refused from its size alone), then its format told from its first
 * bytes: JPEG, PNG or WebP, named with its format's extension. Problems at their lines.
 */
async function pressImages(
  file: string,
  entries: readonly Omit<PressImage, 'size' | 'format'>[],
  parsed: LocatedYaml,
  files: SourceFiles,
  problems: Problem[],
): Promise<PressImage[]> {
  const gallery: PressImage[] = [];
  for (const [i, entry] of entries.entries()) {
    const at = ['images', i, 'file'];
    const where = { file, ...parsed.locate(at), path: formatPath(at), value: entry.file };
    const target = path.join(path.dirname(file), entry.file);
    const size = await sizeOf(files, target, where, problems, {
      missing: `image not found at ${target}: paths are relative to the publication file`,
    });
    if (size === undefined) continue;
    if (size > max.pressImageFile) {
      problems.push({
        ...where,
        message: `${target} is ${showByteSize(size)}, more than the ${showByteSize(max.pressImageFile)} a press kit image may be: export it smaller (3000 px wide is plenty for print), or put it online and add a link to it`,
      });
      continue;
    }
    const sniffed = sniffImageFormat(await firstBytes(files, target, sniffBytes));
    const problem = 'refused' in sniffed ? sniffed.refused : extensionProblem(entry.file, sniffed.format);
    if (problem !== undefined || !('format' in sniffed)) {
      problems.push({ ...where, message: `${target} ${problem}` });
      continue;
    }
    gallery.push({ ...entry, size, format: sniffed.format });
  }
  return gallery;
}

/** The first `count` bytes of a file (fewer when it is shorter), read as the loader reads. */
async function firstBytes(files: SourceFiles, file: string, count: number): Promise<Uint8Array> {
  const body = await files.stream(file);
  if (!body) return new Uint8Array();
  const head = new Uint8Array(count);
  let filled = 0;
  // Leaving the loop early closes the stream: the rest of the file is never read.
  for await (const chunk of await body.open()) {
    const part = chunk.subarray(0, count - filled);
    head.set(part, filled);
    filled += part.byteLength;
    if (filled === count) break;
  }
  return head.subarray(0, filled);
}

/** A Markdown file with front matter (a publication, an issue), read and parsed. */
export interface FrontMatterSource {
  parsed: LocatedYaml;
  /** The body as written (not trimmed), and the file line it starts on. */
  body: string;
  bodyFirstLine: number;
}

/**
 * Reads a publication or an issue: refused from its size before it is read (a 50 MB file is
 * refused at once), decoded (notices added for converted files), its lengths checked before
 * anything is parsed, no control
 * characters, front matter parsed with positions.
 */
export async function readFrontMatterFile(
  file: string,
  files: SourceFiles,
  notices: string[],
): Promise<FrontMatterSource> {
  const text = await readInputText(files, file, notices, {
    maxSize: max.publicationFile,
    tooLarge: publicationFileTooLarge,
  });
  const { yaml, yamlFirstLine, body, bodyFirstLine } = splitFrontMatter(text, file);
  const tooLong: Problem[] = [];
  if (yaml.length > max.frontMatter) {
    tooLong.push({
      file,
      line: yamlFirstLine,
      path: '',
      message: `the front matter is ${yaml.length.toLocaleString('en')} characters long, more than the ${max.frontMatter.toLocaleString('en')} allowed: is the closing "---" missing?`,
    });
  }
  if (body.length > max.body) {
    tooLong.push({
      file,
      line: bodyFirstLine,
      path: 'body',
      message: `the body is ${body.length.toLocaleString('en')} characters long, more than the ${max.body.toLocaleString('en')} allowed (a long press release is about 50,000): shorten it, or put the full text in an attachment`,
    });
  }
  if (tooLong.length > 0) throw new InvalidInputError(tooLong);
  const control = controlCharacterProblem(text, file);
  if (control) throw new InvalidInputError([control]);
  return { parsed: parseYaml(yaml, file, yamlFirstLine), body, bodyFirstLine };
}

/**
 * Problems of a Markdown body that rendering cannot take (nesting too deep, too many
 * elements), at their lines. Returns its images, with their file lines.
 */
export function checkBody(
  file: string,
  body: string,
  bodyFirstLine: number,
  problems: Problem[],
): { src: string; line: number }[] {
  const facts = inspectMarkdown(body);
  if (facts.depth.max > max.nesting) {
    problems.push({
      file,
      line: bodyFirstLine + facts.depth.line,
      path: 'body',
      message: nestingMessage(facts.depth.max),
    });
  }
  if (facts.elements > max.bodyElements) {
    problems.push({
      file,
      line: bodyFirstLine,
      path: 'body',
      message: `has ${facts.elements.toLocaleString('en')} elements (paragraphs, links, emphasis, HTML tags...), more than the ${max.bodyElements.toLocaleString('en')} pressroom renders: simplify it`,
    });
  }
  return facts.images.map((i) => ({ src: i.src, line: bodyFirstLine + i.line }));
}

/** The message for elements nested `depth` levels deep. */
function nestingMessage(depth: number): string {
  return `nests elements ${depth} levels deep (lists, quotes or HTML tags inside one another), more than the ${max.nesting} pressroom can render: flatten it`;
}

/** A Markdown field of a front matter or an organisation file. */
export interface MarkdownField {
  path: FieldPath;
  value: string | undefined;
  /** Inline Markdown (a lead, a summary): one paragraph. */
  inline?: boolean;
}

/**
 * Problems of Markdown written in fields (lead, "about", intro...), at the field's line:
 * nesting deeper than rendering can follow, and images that are not https URLs (only the
 * body's local images are copied with a release).
 */
export function checkMarkdownFields(
  file: string,
  parsed: LocatedYaml,
  fields: readonly MarkdownField[],
  problems: Problem[],
): void {
  for (const field of fields) {
    if (field.value === undefined) continue;
    const facts = inspectMarkdown(field.value, { inline: field.inline === true });
    const where = { file, ...parsed.locate(field.path), path: formatPath(field.path) };
    if (facts.depth.max > max.nesting) problems.push({ ...where, message: nestingMessage(facts.depth.max) });
    for (const image of facts.images) {
      if (imageSource(image.src).kind === 'https') continue;
      problems.push({
        ...where,
        message: 'an image here must be an https:// URL: put a local image file in the body',
        value: image.src,
      });
    }
  }
}

/** The "about" of the organisations written inline in `publishers`. */
export function inlineAbouts(publishers: readonly (string | Organization)[]): MarkdownField[] {
  return publishers.flatMap((p, i) =>
    typeof p === 'string' ? [] : [{ path: ['publishers', i, 'about'], value: p.about }],
  );
}

/**
 * The size of a file a publication names, or undefined with a problem at `where`: missing
 * (`missing` says what to do) or refused by the adapter (its reason says why and what to do).
 */
async function sizeOf(
  files: SourceFiles,
  target: string,
  where: Omit<Problem, 'message'>,
  problems: Problem[],
  messages: { missing: string },
): Promise<number | undefined> {
  try {
    const size = await files.size(target);
    if (size === undefined) problems.push({ ...where, message: messages.missing });
    return size;
  } catch (error) {
    if (!(error instanceof RefusedFileError)) throw error;
    problems.push({ ...where, message: `${target} ${error.reason}` });
    return undefined;
  }
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
  notices: string[],
): Promise<Publisher[]> {
  const publishers: Publisher[] = [];
  for (const [i, entry] of entries.entries()) {
    if (typeof entry !== 'string') {
      publishers.push({ id: slugify(entry.name), ...entry });
      continue;
    }
    const at = ['publishers', i];
    const found = await loadOrganization(file, entry, files, problems, notices, {
      file,
      ...parsed.locate(at),
      path: formatPath(at),
      value: entry,
    });
    if (found) publishers.push({ id: entry, ...found });
  }
  return publishers;
}

/**
 * An organisation file, from the first of its search paths inside the workspace that holds
 * one (a path outside the workspace is not searched).
 */
async function loadOrganization(
  publicationFile: string,
  id: string,
  files: SourceFiles,
  problems: Problem[],
  notices: string[],
  where: Omit<Problem, 'message'>,
): Promise<Organization | undefined> {
  const searched: string[] = [];
  for (const candidate of organizationSearchPaths(publicationFile, id)) {
    let source: DecodedText | undefined;
    try {
      source = await readSourceText(files, candidate);
    } catch (error) {
      if (!(error instanceof RefusedFileError)) throw error;
      if (error.kind === 'outside') continue;
      problems.push({ ...where, message: `the organisation file ${candidate} ${error.reason}` });
      return undefined;
    }
    searched.push(candidate);
    if (source === undefined) continue;
    if (source.notice) notices.push(source.notice);
    const found = parseOrganization(candidate, source.text);
    if ('problems' in found) problems.push(...found.problems);
    else return found.organization;
    return undefined;
  }
  problems.push({
    ...where,
    message: `unknown organisation "${id}": no file ${searched.join(' or ')}. Create it, fix the id, or write the organisation inline`,
  });
  return undefined;
}

/** An organisation file's text, checked: the organisation, or its problems with their lines. */
export function parseOrganization(
  file: string,
  text: string,
): { organization: Organization } | { problems: Problem[] } {
  if (text.length > max.organizationFile) {
    return {
      problems: [
        {
          file,
          line: 1,
          path: '',
          message: `is ${text.length.toLocaleString('en')} characters long, more than the ${max.organizationFile.toLocaleString('en')} an organisation file may hold`,
        },
      ],
    };
  }
  const control = controlCharacterProblem(text, file);
  if (control) return { problems: [control] };
  try {
    const parsed = parseYaml(text, file);
    const org = validate(organizationSchema, parsed);
    if (!org.ok) return { problems: org.problems };
    const problems: Problem[] = [];
    checkMarkdownFields(file, parsed, [{ path: ['about'], value: org.value.about }], problems);
    return problems.length > 0 ? { problems } : { organization: org.value };
  } catch (error) {
    if (error instanceof InvalidInputError) return { problems: error.problems };
    throw error;
  }
}
