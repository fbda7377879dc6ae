import { isDeepStrictEqual } from 'node:util';
import {
  Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { InvalidInputError } from '../errors.ts';

/**
 * A publication file edited in the admin, written back as the person wrote it: only what
 * changed is rewritten. Each top-level field of the front matter is a span of the file; a
 * field whose value did not change keeps its bytes (comments, quoting, folding, order), a
 * changed one is written again by the yaml library (a folded or quoted text stays folded or
 * quoted), a removed one goes, a new one is added at the end. The body is replaced only when
 * it changed. So a file opened and saved unchanged is byte for byte the same.
 */

/** What the admin sends for a publication: the front matter as data, and the Markdown body. */
export interface PublicationEdit {
  frontMatter: Record<string, unknown>;
  body: string;
}

/** The opening line, the front matter and the closing line (as input.ts's splitFrontMatter). */
const frontMatterPattern = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n?^---[ \t]*(?:\r?\n|$)/m;

/** The file with `edit` applied; the same string when nothing changed. */
export function editPublicationText(text: string, edit: PublicationEdit, file: string): string {
  const match = frontMatterPattern.exec(text);
  if (match?.index !== 0)
    throw new InvalidInputError([
      { file, line: 1, path: '', message: 'no front matter to edit: the file must start with a line "---"' },
    ]);
  const whole = match[0];
  const yamlStart = whole.indexOf('\n') + 1;
  const closing = whole.lastIndexOf('\n---') + 1;
  const yaml = whole.slice(yamlStart, closing);
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const editedYaml = editFrontMatter(yaml, edit.frontMatter, newline, file);
  const body = text.slice(whole.length);
  const editedBody = body.replace(/\r\n/g, '\n') === edit.body ? body : edit.body.replace(/\r?\n/g, newline);
  return `${text.slice(0, yamlStart)}${editedYaml}${whole.slice(closing)}${editedBody}`;
}

/** The front matter's text with each changed top-level field rewritten, the others as they were. */
function editFrontMatter(
  yaml: string,
  wanted: Record<string, unknown>,
  newline: string,
  file: string,
): string {
  const doc = parseDocument(yaml);
  const map = doc.contents;
  if (doc.errors.length > 0 || (map !== null && !isMap(map)))
    throw new InvalidInputError([
      { file, path: '', message: 'the front matter cannot be edited here: fix its YAML in the file first' },
    ]);
  const fields = (map?.items ?? []).map((pair, i, all) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const next = all[i + 1]?.key as Scalar | undefined;
    return {
      key,
      value: pair.value,
      start: lineStart(yaml, (pair.key as Scalar).range?.[0] ?? 0),
      // Up to the next field's line: comments just above a field stay where they are.
      end: next?.range ? lineStart(yaml, next.range[0]) : yaml.length,
    };
  });
  const current = (doc.toJS() ?? {}) as Record<string, unknown>;
  let out = '';
  let cursor = 0;
  for (const field of fields) {
    out += yaml.slice(cursor, field.start);
    cursor = field.end;
    const span = yaml.slice(field.start, field.end);
    if (!(field.key in wanted) || wanted[field.key] === undefined) continue;
    out += isDeepStrictEqual(wanted[field.key], current[field.key])
      ? span
      : fragment(field.key, wanted[field.key], field.value, newline) + trailingLines(span);
  }
  out += yaml.slice(cursor);
  const added = Object.keys(wanted).filter((key) => !(key in current) && wanted[key] !== undefined);
  for (const key of added) out += fragment(key, wanted[key], undefined, newline);
  return out;
}

/** The blank lines and top-level comments that end a field's span (before the next field). */
function trailingLines(span: string): string {
  const lines = span.split('\n');
  let keep = lines.length;
  while (keep > 1 && /^(#.*)?\r?$/.test(lines[keep - 1] ?? '')) keep--;
  // The last kept line's newline is the fragment's own.
  return lines.slice(keep).join('\n');
}

/**
 * `key: value` as the yaml library writes it; the parts of a list or a mapping that did not
 * change keep their nodes (a folded or quoted text its style, a flow list its brackets, a
 * comment its place), so editing one quote leaves the others as they were written.
 */
function fragment(key: string, value: unknown, was: unknown, newline: string): string {
  const doc = new Document({ [key]: null });
  const pair = isMap(doc.contents) ? doc.contents.items[0] : undefined;
  if (pair) pair.value = merged(was, value, doc);
  return doc.toString({ lineWidth: 0 }).replace(/\n/g, newline);
}

/** `node` with the comments of the node it replaces: above it, and at the end of its line. */
function withComments<T extends Node>(node: T, was: Node): T {
  if (was.commentBefore) node.commentBefore = was.commentBefore;
  if (was.comment) node.comment = was.comment;
  return node;
}

/** The node of `value`, reusing what of the node `was` still holds the same data. */
function merged(was: unknown, value: unknown, doc: Document): Node {
  if (isNode(was) && isDeepStrictEqual(was.toJS(doc), value)) return was;
  if (isSeq(was) && Array.isArray(value)) {
    const seq = new YAMLSeq(doc.schema);
    seq.flow = was.flow ?? false;
    seq.items = value.map((item, i) => merged(was.items[i], item, doc));
    return withComments(seq, was);
  }
  if (isMap(was) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const map = new YAMLMap(doc.schema);
    map.flow = was.flow ?? false;
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    // The mapping's own order first, then the new keys.
    const keyOf = (k: unknown) => (isScalar(k) ? String(k.value) : String(k));
    for (const old of was.items) {
      const entry = entries.find(([k]) => k === keyOf(old.key));
      if (entry) map.items.push(doc.createPair(old.key, merged(old.value, entry[1], doc)));
    }
    for (const [k, v] of entries)
      if (!was.items.some((old) => keyOf(old.key) === k))
        map.items.push(doc.createPair(k, merged(undefined, v, doc)));
    return withComments(map, was);
  }
  const node = doc.createNode(value) as Node;
  if (isScalar(was) && isScalar(node)) {
    if (typeof value === 'string' && was.type) node.type = was.type;
    // A comment at the end of the value's line stays with it.
    if (was.comment) node.comment = was.comment;
  }
  return node;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}
