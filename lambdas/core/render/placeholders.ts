import { TemplateError } from '../errors.ts';

/**
 * The recipient placeholders that the document stage leaves in an email, filled without
 * Handlebars' compiler: the sending function carries this module instead of the 80 KB
 * compiler (issue 19, small Lambda code). It reads the part of the Handlebars language that
 * stage 2 allows (`knownHelpersOnly` with `if` and `unless`): `{{path}}`, `{{{path}}}` and
 * `{{&path}}`, `{{#if path}}…{{else}}…{{/if}}`, `{{#unless path}}…{{/unless}}`, comments,
 * `~` whitespace control and `\{{` escapes, and fills them as Handlebars 4 does, standalone
 * lines included (the whitespace pass is Handlebars' own, ported). Anything else is refused
 * when the email is compiled, with the tag and its line. tests/unit/placeholders.test.ts
 * compares the output with Handlebars' on the real emails and on generated templates.
 */

/** Fills a compiled template with one recipient's fields. */
export type PlaceholderFill = (data: object) => string;

interface Strip {
  open: boolean;
  close: boolean;
}

interface Content {
  type: 'content';
  original: string;
  value: string;
  leftStripped?: boolean;
  rightStripped?: boolean;
}
interface Mustache {
  type: 'mustache';
  path: string[];
  escaped: boolean;
  strip: Strip;
}
interface Comment {
  type: 'comment';
  strip: Strip;
}
interface Program {
  body: Statement[];
}
interface Block {
  type: 'block';
  helper: 'if' | 'unless';
  path: string[];
  program: Program;
  inverse?: Program;
  openStrip: Strip;
  inverseStrip?: Strip;
  closeStrip: Strip;
}
type Statement = Content | Mustache | Comment | Block;

/** What the whitespace pass learns of a statement (Handlebars' `strip`). */
interface StandaloneStrip {
  open?: boolean;
  close?: boolean;
  openStandalone?: boolean;
  closeStandalone?: boolean;
  inlineStandalone?: boolean;
}

const supported =
  'recipient placeholders may be {{path}}, {{{path}}}, {{#if path}}…{{else}}…{{/if}}, {{#unless path}}…{{/unless}} and comments';

/** A tag as read: the text between its braces, where it starts, how it strips. */
interface Tag {
  kind: 'value' | 'raw' | 'comment' | 'block' | 'close' | 'else';
  inner: string;
  strip: Strip;
  at: number;
}

/** Refuses a tag stage 2 does not fill, naming it and its line. */
function refuse(source: string, at: number, why: string): never {
  const line = source.slice(0, at).split('\n').length;
  const end = source.indexOf('}}', at);
  const tag = source.slice(at, end < 0 ? at + 40 : end + 2).slice(0, 80);
  throw new TemplateError(`${why}: ${JSON.stringify(tag)} at line ${line}; ${supported}`);
}

/** Content and tags, as Handlebars' lexer cuts them (a `\{{` escape makes its own content). */
function tokenize(source: string): (Content | Tag)[] {
  const tokens: (Content | Tag)[] = [];
  const content = (text: string) => {
    if (text) tokens.push({ type: 'content', original: text, value: text });
  };
  let at = 0;
  while (at < source.length) {
    const next = source.indexOf('{{', at);
    if (next < 0) {
      content(source.slice(at));
      break;
    }
    const text = source.slice(at, next);
    if (text.endsWith('\\\\')) {
      content(text.slice(0, -1));
    } else if (text.endsWith('\\')) {
      // An escaped tag is text, up to the next tag (escaped or not) or the end.
      content(text.slice(0, -1));
      at = escapedUpTo(source, next + 2);
      content(source.slice(next, at));
      continue;
    } else {
      content(text);
    }
    const tag = readTag(source, next);
    tokens.push(tag);
    at = tag.end;
  }
  return tokens;
}

/** Where the text of an escaped tag ends: before the next `{{`, `\{{` or `\\{{`. */
function escapedUpTo(source: string, from: number): number {
  const next = source.indexOf('{{', from);
  if (next < 0) return source.length;
  if (source[next - 1] !== '\\') return next;
  return source[next - 2] === '\\' ? next - 2 : next - 1;
}

function readTag(source: string, start: number): Tag & { end: number } {
  let i = start + 2;
  const open = source[i] === '~';
  if (open) i++;
  if (source[i] === '!') {
    // {{!-- … --}} ends at the first --}}; {{! … }} at the first }}.
    const closer = source.startsWith('!--', i) ? /--(~?)\}\}/g : /(~?)\}\}/g;
    closer.lastIndex = i + 1;
    const match = closer.exec(source);
    if (!match) refuse(source, start, 'a comment that does not end');
    const end = match.index + match[0].length;
    return { kind: 'comment', inner: '', strip: { open, close: match[1] === '~' }, at: start, end };
  }
  const sigil = source[i] ?? '';
  if ('>^*'.includes(sigil) && sigil !== '') refuse(source, start, 'a tag stage 2 does not fill');
  const triple = sigil === '{';
  const kind: Tag['kind'] =
    triple || sigil === '&' ? 'raw' : sigil === '#' ? 'block' : sigil === '/' ? 'close' : 'value';
  if (kind !== 'value') i++;
  const closer = triple ? /\}(~?)\}\}/g : /(~?)\}\}/g;
  closer.lastIndex = i;
  const match = closer.exec(source);
  if (!match) refuse(source, start, 'a tag that does not end');
  const inner = source.slice(i, match.index).trim();
  const strip = { open, close: match[1] === '~' };
  const end = match.index + match[0].length;
  return { kind: kind === 'value' && inner === 'else' ? 'else' : kind, inner, strip, at: start, end };
}

/**
 * A path such as `recipient.firstName`: names joined by dots, and Handlebars' literal segments
 * for an array's items (`tracking.links.[3]`), nothing else.
 */
function pathOf(source: string, tag: Tag, text: string): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\[\d+\]))*$/.test(text))
    refuse(source, tag.at, 'a placeholder stage 2 does not fill');
  return text.split('.').map((segment) => (segment.startsWith('[') ? segment.slice(1, -1) : segment));
}

function parse(source: string): Program {
  const tokens = tokenize(source);
  let at = 0;
  /** Statements up to the `{{else}}` or `{{/helper}}` that ends them (the end of the source at the top). */
  const program = (block?: { helper: string; open: Tag }): { body: Statement[]; end?: Tag } => {
    const body: Statement[] = [];
    while (at < tokens.length) {
      const token = tokens[at++] as Content | Tag;
      if ('type' in token) {
        body.push(token);
      } else if (token.kind === 'comment') {
        body.push({ type: 'comment', strip: token.strip });
      } else if (token.kind === 'value' || token.kind === 'raw') {
        body.push({
          type: 'mustache',
          path: pathOf(source, token, token.inner),
          escaped: token.kind === 'value',
          strip: token.strip,
        });
      } else if (token.kind === 'block') {
        body.push(blockAt(token));
      } else {
        if (!block || (token.kind === 'close' && token.inner !== block.helper))
          refuse(
            source,
            token.at,
            `a ${token.kind === 'else' ? '{{else}}' : 'closing tag'} with no block of its own`,
          );
        return { body, end: token };
      }
    }
    if (block) refuse(source, block.open.at, 'a block that is not closed');
    return { body };
  };
  const blockAt = (open: Tag): Block => {
    const [helper = '', path = '', ...rest] = open.inner.split(/\s+/);
    if ((helper !== 'if' && helper !== 'unless') || rest.length > 0)
      refuse(source, open.at, 'a block stage 2 does not fill');
    const first = program({ helper, open });
    const second = first.end?.kind === 'else' ? program({ helper, open }) : undefined;
    if (second?.end?.kind === 'else') refuse(source, (second.end as Tag).at, 'a second {{else}}');
    return {
      type: 'block',
      helper,
      path: pathOf(source, open, path),
      program: { body: first.body },
      ...(second && { inverse: { body: second.body }, inverseStrip: (first.end as Tag).strip }),
      openStrip: open.strip,
      closeStrip: ((second ?? first).end as Tag).strip,
    };
  };
  return { body: program().body };
}

// Handlebars' whitespace control (lib/handlebars/compiler/whitespace-control.js, 4.7),
// ported to these statements: standalone lines and `~`.

function whitespace(program: Program, isRoot: boolean): void {
  const body = program.body;
  for (let i = 0; i < body.length; i++) {
    const current = body[i] as Statement;
    const strip = accept(current);
    if (!strip) continue;
    const prevWhitespace = isPrevWhitespace(body, i, isRoot);
    const nextWhitespace = isNextWhitespace(body, i, isRoot);
    const openStandalone = strip.openStandalone && prevWhitespace;
    const closeStandalone = strip.closeStandalone && nextWhitespace;
    const inlineStandalone = strip.inlineStandalone && prevWhitespace && nextWhitespace;
    if (strip.close) omitRight(body, i, true);
    if (strip.open) omitLeft(body, i, true);
    if (inlineStandalone) {
      omitRight(body, i);
      omitLeft(body, i);
    }
    if (openStandalone && current.type === 'block') {
      omitRight(current.program.body);
      omitLeft(body, i);
    }
    if (closeStandalone && current.type === 'block') {
      omitRight(body, i);
      omitLeft((current.inverse ?? current.program).body);
    }
  }
}

function accept(statement: Statement): StandaloneStrip | undefined {
  switch (statement.type) {
    case 'content':
      return undefined;
    case 'mustache':
      return statement.strip;
    case 'comment':
      return { inlineStandalone: true, open: statement.strip.open, close: statement.strip.close };
    case 'block': {
      whitespace(statement.program, false);
      if (statement.inverse) whitespace(statement.inverse, false);
      const { program, inverse } = statement;
      const strip = {
        open: statement.openStrip.open,
        close: statement.closeStrip.close,
        openStandalone: isNextWhitespace(program.body),
        closeStandalone: isPrevWhitespace((inverse ?? program).body),
      };
      if (statement.openStrip.close) omitRight(program.body, undefined, true);
      if (inverse) {
        const inverseStrip = statement.inverseStrip as Strip;
        if (inverseStrip.open) omitLeft(program.body, undefined, true);
        if (inverseStrip.close) omitRight(inverse.body, undefined, true);
        if (statement.closeStrip.open) omitLeft(inverse.body, undefined, true);
        if (isPrevWhitespace(program.body) && isNextWhitespace(inverse.body)) {
          omitLeft(program.body);
          omitRight(inverse.body);
        }
      } else if (statement.closeStrip.open) {
        omitLeft(program.body, undefined, true);
      }
      return strip;
    }
  }
}

function isPrevWhitespace(body: Statement[], index?: number, isRoot = false): boolean {
  const i = index ?? body.length;
  const prev = body[i - 1];
  const sibling = body[i - 2];
  if (!prev) return isRoot;
  if (prev.type !== 'content') return false;
  return (sibling || !isRoot ? /(?:^|\S)[^\S\n]*\n\s*$/ : /^\s*$|(?:^|\S)[^\S\n]*\n\s*$/).test(prev.original);
}

function isNextWhitespace(body: Statement[], index?: number, isRoot = false): boolean {
  const i = index ?? -1;
  const next = body[i + 1];
  const sibling = body[i + 2];
  if (!next) return isRoot;
  if (next.type !== 'content') return false;
  return (sibling || !isRoot ? /^\s*?\r?\n/ : /^\s*?(\r?\n|$)/).test(next.original);
}

function omitRight(body: Statement[], index?: number, multiple = false): void {
  const current = body[index === undefined ? 0 : index + 1];
  if (current?.type !== 'content' || (!multiple && current.rightStripped)) return;
  const original = current.value;
  current.value = current.value.replace(multiple ? /^\s+/ : /^[ \t]*\r?\n?/, '');
  current.rightStripped = current.value !== original;
}

function omitLeft(body: Statement[], index?: number, multiple = false): boolean {
  const current = body[index === undefined ? body.length - 1 : index - 1];
  if (current?.type !== 'content' || (!multiple && current.leftStripped)) return false;
  const original = current.value;
  current.value = current.value.replace(multiple ? /(^|\S)\s+$/ : /(^|[^ \t])[ \t]+$/, '$1');
  current.leftStripped = current.value !== original;
  return current.leftStripped;
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

/** Handlebars' escapeExpression. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => entities[c] as string);
}

/** Own properties only, as Handlebars' prototype-access protection allows. */
function lookup(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const name of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** The `if` helper's truth: not falsy, not an empty array. */
const truthy = (value: unknown) => Boolean(value) && !(Array.isArray(value) && value.length === 0);

function render(body: readonly Statement[], data: object, escapes: boolean): string {
  let out = '';
  for (const s of body) {
    if (s.type === 'content') out += s.value;
    else if (s.type === 'mustache') {
      const value = lookup(data, s.path);
      if (value === undefined || value === null) continue;
      out += escapes && s.escaped ? escapeHtml(String(value)) : String(value);
    } else if (s.type === 'block') {
      const yes = truthy(lookup(data, s.path)) === (s.helper === 'if');
      const branch = yes ? s.program : s.inverse;
      if (branch) out += render(branch.body, data, escapes);
    }
  }
  return out;
}

/**
 * Compiles a stage-2 template once; `escape: false` is Handlebars' `noEscape` (the plain
 * text version). Throws TemplateError, naming the tag and its line, on anything stage 2
 * does not fill.
 */
export function compilePlaceholders(source: string, options: { escape: boolean }): PlaceholderFill {
  const program = parse(source);
  whitespace(program, true);
  return (data) => render(program.body, data, options.escape);
}
