import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { FileTooLargeError, InvalidInputError, type Problem, RefusedFileError } from './errors.ts';
import type { ReadOptions, SourceFiles } from './publication/load.ts';
import { type DecodedText, decodeText } from './text-encoding.ts';

export { controlCharacterProblem, hasControlCharacter } from './control-characters.ts';

/**
 * Reading user files (publications, organisations, later campaigns): YAML with positions,
 * so that every problem names its file, line, field and value; validation with zod.
 */

export type FieldPath = readonly PropertyKey[];

/** A parsed YAML document that can tell where each field was written. */
export interface LocatedYaml {
  file: string;
  data: unknown;
  /** Line and column of the value at `path` (or of its nearest parent that exists). */
  locate(path: FieldPath): { line: number; column: number } | undefined;
  /** Line and column of the key `key` in the mapping at `path`. */
  locateKey(path: FieldPath, key: string): { line: number; column: number } | undefined;
  /** The text of a line of the file (numbered as in `locate`), for hints. */
  lineText(line: number): string | undefined;
}

/** `publishers[0].pressContact.email` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * Parses YAML text. `firstLine` is the line of the file where `text` starts (front matter
 * starts on line 2, after the opening `---`). Syntax errors, duplicate keys, nesting too
 * deep for the parser and alias bombs are thrown as an InvalidInputError with their
 * positions; an unquoted ": " inside a value gets the quoted fix.
 */
export function parseYaml(text: string, file: string, firstLine = 1): LocatedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + firstLine - 1, column: pos.col };
  };
  const lines = text.split(/\r?\n/);
  const lineText = (line: number) => lines[line - firstLine];
  if (doc.errors.length > 0) {
    const seen = new Set<number>();
    const problems: Problem[] = [];
    for (const e of doc.errors) {
      const at = lineOf(e.pos[0]);
      // One mistake often gives several errors on its line: the first says enough.
      if (seen.has(at.line)) continue;
      seen.add(at.line);
      const fix = quotedValueFix(lineText(at.line) ?? '');
      problems.push({
        file,
        ...at,
        path: '',
        message: fix
          ? `a colon followed by a space inside a value starts a new field in YAML: put the whole value in double quotes, as in ${fix}`
          : e.code === 'RESOURCE_EXHAUSTION'
            ? 'YAML nested too deeply for pressroom to read: a front matter needs a few levels at most'
            : `YAML syntax error: ${e.message.split('\n')[0]}. Check indentation, colons and quotes on this line.`,
      });
    }
    throw new InvalidInputError(problems);
  }
  const nodeAt = (path: FieldPath): Node | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (node && typeof node === 'object' && 'range' in node && (node as Node).range) return node as Node;
    }
    return undefined;
  };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The yaml library refuses an alias bomb ("billion laughs") while building the values.
    if (!(error instanceof ReferenceError)) throw error;
    throw new InvalidInputError([
      {
        file,
        line: firstLine,
        path: '',
        message:
          'uses YAML aliases (*name) that expand to too many values: write the values out instead of repeating aliases',
      },
    ]);
  }
  return {
    file,
    data,
    locate(path) {
      const node = nodeAt(path);
      return node?.range ? lineOf(node.range[0]) : undefined;
    },
    locateKey(path, key) {
      const parent = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        if (pair && isScalar(pair.key) && pair.key.range) return lineOf(pair.key.range[0]);
      }
      return this.locate(path);
    },
    lineText,
  };
}

/**
 * `title: Gestion de crise : les villes` → `title: "Gestion de crise : les villes"`: the line
 * with its value quoted, when an unquoted value holds ": " (or ends with ":"), which YAML
 * reads as a new field. Undefined for any other line.
 */
export function quotedValueFix(line: string): string | undefined {
  const field = /^(\s*(?:-\s+)?)([^\s:#"'\-[{][^:#]*?):[ \t]+(.*?)\s*$/.exec(line);
  if (!field) return undefined;
  const [, indent, key, value] = field as unknown as [string, string, string, string];
  if (!value || /^["'[{|>&*!#]/.test(value) || !/:(?:\s|$)/.test(value)) return undefined;
  return `${indent}${key}: ${quote(value)}`;
}

/** `- numérique : avenir`, a list item YAML read as a one-field mapping → `- "numérique : avenir"`. */
function quotedItemFix(line: string): string | undefined {
  const item = /^(\s*-\s+)([^\s"'[{#].*?:\s.*?)\s*$/.exec(line);
  return item ? `${item[1]}${quote(item[2] ?? '')}` : undefined;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A Markdown file split into its YAML front matter and its body. */
export interface FrontMatterFile {
  yaml: string;
  /** The file line where the YAML starts. */
  yamlFirstLine: number;
  /** The Markdown after the closing `---`, line endings made `\n`. */
  body: string;
  /** The file line where the body starts. */
  bodyFirstLine: number;
}

const frontMatterPattern = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n?^---[ \t]*(?:\r?\n|$)/m;

/** Splits `---\n yaml \n---\n body`. A file without front matter is a problem, not an empty record. */
export function splitFrontMatter(text: string, file: string): FrontMatterFile {
  const match = frontMatterPattern.exec(text);
  if (match?.index !== 0) {
    throw new InvalidInputError([
      {
        file,
        line: 1,
        path: '',
        message:
          'no front matter: the file must start with a line "---", then YAML fields, then a line "---", then the Markdown body',
      },
    ]);
  }
  return {
    yaml: match[1] ?? '',
    yamlFirstLine: 2,
    body: text.slice(match[0].length).replace(/\r\n/g, '\n'),
    bodyFirstLine: match[0].split('\n').length,
  };
}

/**
 * Validates parsed YAML with a zod schema. Returns the output, or the problems with
 * positions; `knownKeys` helps suggest the right spelling of an unknown field.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: LocatedYaml,
): { ok: true; value: z.output<S> } | { ok: false; problems: Problem[] } {
  const result = schema.safeParse(input.data ?? {});
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: zodProblems(result.error.issues, input, schema) };
}

type Issue = z.core.$ZodIssue;

function valueAt(data: unknown, path: FieldPath): unknown {
  let cur = data;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** Turns zod issues into problems, choosing the relevant branch of unions. */
export function zodProblems(
  issues: readonly Issue[],
  input: LocatedYaml,
  schema?: z.ZodType,
  prefix: FieldPath = [],
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const value = valueAt(input.data, path);
    if (issue.code === 'invalid_union') {
      // A union such as "an organisation id or an organisation object": report the
      // branch that matches the kind of value written, not every branch's complaint.
      // A branch of allowed words (an enum) does not fit a mapping or a list either.
      const structured = typeof value === 'object' && value !== null;
      const relevant = issue.errors.filter(
        (branch) =>
          !branch.some(
            (i) =>
              i.path.length === 0 &&
              (i.code === 'invalid_type' || (structured && i.code === 'invalid_value')),
          ),
      );
      if (relevant.length === 1 && relevant[0]) {
        problems.push(...zodProblems(relevant[0], input, schema, path));
        continue;
      }
      const expected = issue.errors
        .flatMap((b) => b.filter((i) => i.code === 'invalid_type' && i.path.length === 0))
        .map((i) => (i as { expected: string }).expected);
      problems.push({
        file: input.file,
        ...input.locate(path),
        path: formatPath(path),
        message: `must be ${describeTypes(expected)}`,
        value,
      });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      const allowed = schema ? allowedKeys(schema, path) : [];
      for (const key of issue.keys) {
        const suggestion = closest(key, allowed);
        problems.push({
          file: input.file,
          ...input.locateKey(path, key),
          path: formatPath([...path, key]),
          message:
            `unknown field "${key}"` +
            (suggestion ? `: did you mean "${suggestion}"?` : '.') +
            (allowed.length ? ` Allowed fields here: ${allowed.join(', ')}.` : ''),
        });
      }
      continue;
    }
    if (issue.code === 'invalid_type' && value === undefined) {
      problems.push({
        file: input.file,
        ...input.locate(path),
        path: formatPath(path),
        message: `is required (${describeTypes([issue.expected])}) but is missing`,
      });
      continue;
    }
    const message =
      issue.code === 'invalid_type'
        ? `must be ${describeTypes([issue.expected])}${issue.expected === 'string' ? colonHint(input, path, value) : ''}`
        : issue.message;
    problems.push({ file: input.file, ...input.locate(path), path: formatPath(path), message, value });
  }
  return problems;
}

/**
 * Text that YAML read as a mapping because of an unquoted ": " (`- numérique : avenir`): the
 * quoted fix, or nothing when the value does not look like that.
 */
function colonHint(input: LocatedYaml, path: FieldPath, value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '';
  const at = input.locate(path);
  const line = at && input.lineText(at.line);
  const fix = line !== undefined && (quotedItemFix(line) ?? quotedValueFix(line));
  return fix
    ? `; the ": " in it made YAML read a field: put the whole text in double quotes, as in ${fix.trim()}`
    : '';
}

function describeTypes(types: string[]): string {
  const names: Record<string, string> = {
    string: 'text',
    object: 'a mapping of fields',
    array: 'a list',
    number: 'a number',
    boolean: 'true or false',
  };
  return [...new Set(types)].map((t) => names[t] ?? t).join(' or ');
}

/** The field names a schema accepts at `path` (through optionals, defaults, arrays, unions). */
function allowedKeys(schema: z.ZodType, path: FieldPath): string[] {
  const found = new Set<string>();
  const walk = (s: z.core.$ZodType, rest: FieldPath) => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
      case 'nullable':
      case 'readonly':
      case 'catch':
        return walk(def.innerType as z.core.$ZodType, rest);
      case 'pipe':
        return walk(def.in as z.core.$ZodType, rest);
      case 'union':
        for (const o of def.options as z.core.$ZodType[]) walk(o, rest);
        return;
      case 'array':
        return walk(def.element as z.core.$ZodType, typeof rest[0] === 'number' ? rest.slice(1) : rest);
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (rest.length === 0) {
          for (const k of Object.keys(shape)) found.add(k);
          return;
        }
        const next = shape[String(rest[0])];
        if (next) walk(next, rest.slice(1));
        return;
      }
      default:
        return;
    }
  };
  walk(schema, path);
  return [...found];
}

/** The allowed name nearest to `word` by edit distance, if it is near enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The size a kind of input file may have, and the problem of one over it. */
export interface InputSizeLimit {
  maxSize: number;
  tooLarge(size: number, maxSize: number): string;
}

/**
 * A file a loader reads (a publication, an issue, a campaign): decoded, with the notice of a
 * conversion added to `notices`; a missing file, or one the workspace refuses (outside it, a
 * symlink, too large), is a problem on the file itself. With `limit`, a larger file is refused
 * from its size alone, before it is read.
 */
export async function readInputText(
  files: SourceFiles,
  file: string,
  notices: string[],
  limit?: InputSizeLimit,
): Promise<string> {
  let source: DecodedText | undefined;
  try {
    source = await readSourceText(files, file, limit && { maxSize: limit.maxSize });
  } catch (error) {
    if (limit && error instanceof FileTooLargeError) {
      const message = limit.tooLarge(error.size, error.maxSize);
      throw new InvalidInputError([{ file, path: '', message }], { cause: error });
    }
    if (error instanceof RefusedFileError) {
      throw new InvalidInputError([{ file, path: '', message: `this file ${error.reason}` }], {
        cause: error,
      });
    }
    throw error;
  }
  if (source === undefined) {
    throw new InvalidInputError([{ file, path: '', message: 'file not found: check the path' }]);
  }
  if (source.notice) notices.push(source.notice);
  return source.text;
}

/** A text file people wrote, decoded (see decodeText), or undefined when there is no such file. */
export async function readSourceText(
  files: SourceFiles,
  file: string,
  options?: ReadOptions,
): Promise<DecodedText | undefined> {
  const bytes = await files.readBytes(file, options);
  return bytes && decodeText(bytes, file);
}
