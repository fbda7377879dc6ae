import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InvalidInputError, type Problem } from './errors.ts';

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
 * starts on line 2, after the opening `---`). Syntax errors and duplicate keys are thrown
 * as an InvalidInputError with their positions.
 */
export function parseYaml(text: string, file: string, firstLine = 1): LocatedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + firstLine - 1, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new InvalidInputError(
      doc.errors.map((e) => ({
        file,
        ...lineOf(e.pos[0]),
        path: '',
        message: `YAML syntax error: ${e.message.split('\n')[0]}. Check indentation, colons and quotes on this line.`,
      })),
    );
  }
  const nodeAt = (path: FieldPath): Node | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (node && typeof node === 'object' && 'range' in node && (node as Node).range) return node as Node;
    }
    return undefined;
  };
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
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
  };
}

/** A Markdown file split into its YAML front matter and its body. */
export interface FrontMatterFile {
  yaml: string;
  /** The file line where the YAML starts. */
  yamlFirstLine: number;
  body: string;
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
  return { yaml: match[1] ?? '', yamlFirstLine: 2, body: text.slice(match[0].length).replace(/\r\n/g, '\n') };
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
      issue.code === 'invalid_type' ? `must be ${describeTypes([issue.expected])}` : issue.message;
    problems.push({ file: input.file, ...input.locate(path), path: formatPath(path), message, value });
  }
  return problems;
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
