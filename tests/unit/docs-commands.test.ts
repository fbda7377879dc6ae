import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, CommanderError } from 'commander';
import { parse } from 'shell-quote';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../bin/program.ts';

/**
 * Every `pressroom …` the README and docs/ show is one the real command line accepts:
 * examples in code blocks are parsed whole with the program `pressroom` runs (arguments,
 * options, choices, required options), stopping before any command does its work; commands
 * named in the text (`pressroom archive withdraw <slug> --reason TEXT`) must exist with every
 * option they name.
 */

const repo = path.resolve(import.meta.dirname, '../..');
const pages = [
  'README.md',
  ...readdirSync(path.join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Example {
  /** file:line */
  where: string;
  text: string;
}

const commandLine = /^\s*(?:\$ )?(?:[A-Z_][A-Z0-9_]*=\S* +)*(?:npx +)?pressroom(?:\s|$)/;

/** The command lines in code blocks, and the `pressroom …` spans of the text, of one page. */
function examplesOf(page: string): { blocks: Example[]; spans: Example[] } {
  const blocks: Example[] = [];
  const spans: Example[] = [];
  const lines = readFileSync(path.join(repo, page), 'utf8').split('\n');
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    const where = `${page}:${i + 1}`;
    if (fenced) {
      if (!commandLine.test(line)) continue;
      let text = line;
      while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]}`;
      blocks.push({ where, text: text.replace(/^\s*\$ /, '') });
    } else {
      for (const m of line.matchAll(/`((?:npx )?pressroom [^`]+)`/g)) spans.push({ where, text: m[1] ?? '' });
    }
  }
  return { blocks, spans };
}

const all = pages.map(examplesOf);
const blocks = all.flatMap((e) => e.blocks);
const spans = all.flatMap((e) => e.spans);

/** The arguments after `pressroom` in a shell line: up to `&&`, `;`, `|` or a comment. */
function argvOf(text: string): string[] {
  const words: string[] = [];
  for (const token of parse(text, (name) => `$${name}`)) {
    if (typeof token === 'string') words.push(token);
    else if ('op' in token && token.op === 'glob') words.push(token.pattern);
    else break;
  }
  while (words.length > 0 && words[0] !== 'pressroom') words.shift();
  return words.slice(1);
}

/** Stops a parse that succeeded, before the command does anything. */
class Parsed extends Error {
  constructor(readonly command: Command) {
    super(`parsed: ${command.name()}`);
  }
}

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

/** Parses `argv` with a fresh program: the command it would run, or what commander said. */
async function parseWithProgram(argv: string[]): Promise<{ command?: Command; error?: string }> {
  const program = buildProgram();
  let said = '';
  for (const command of everyCommand(program)) {
    command.configureOutput({ writeOut: () => {}, writeErr: (s) => (said += s) });
  }
  program.hook('preAction', (_program, command) => {
    throw new Parsed(command);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { error: 'the command line parsed but nothing would run' };
  } catch (error) {
    if (error instanceof Parsed) return { command: error.command };
    if (error instanceof CommanderError) return { error: said.trim() || error.message };
    throw error;
  }
}

/** The command a span names (its words while they are subcommands), and the options it names. */
function commandOf(text: string): { command: Command; path: string[]; flags: string[] } {
  const words = text.replace(/^npx /, '').split(/\s+/).slice(1);
  let command = buildProgram();
  const names: string[] = [];
  for (const word of words) {
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
    names.push(word);
  }
  const flags = [...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
  return { command, path: names, flags };
}

describe('the command lines in README.md and docs/', () => {
  it('finds the examples it checks', () => {
    expect(blocks.length).toBeGreaterThan(25);
    expect(spans.length).toBeGreaterThan(60);
  });

  it('parses every example in a code block with the real command line', async () => {
    const wrong: string[] = [];
    for (const example of blocks) {
      const result = await parseWithProgram(argvOf(example.text));
      if (result.error) wrong.push(`${example.where}: ${example.text.trim()}\n    ${result.error}`);
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('names only commands and options that exist', () => {
    const wrong: string[] = [];
    for (const span of spans) {
      const { command, path: names, flags } = commandOf(span.text);
      // `pressroom …` and `pressroom --help` name the command itself; anything else must name a subcommand.
      const rest = span.text.replace(/^(npx )?pressroom\s*/, '').split(/\s+/);
      if (names.length === 0 && !rest.every((w) => w === '…' || w.startsWith('-'))) {
        wrong.push(`${span.where}: \`${span.text}\` names no pressroom command`);
        continue;
      }
      // --version is the program's own option: the text may name it only without a subcommand.
      const own = names.length === 0 ? ['--version'] : [];
      const known = new Set(['--help', ...own, ...command.options.map((o) => o.long ?? '')]);
      for (const flag of flags.filter((f) => !known.has(f))) {
        wrong.push(`${span.where}: \`${span.text}\`: \`pressroom ${names.join(' ')}\` has no ${flag}`);
      }
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('would catch an example the parser refuses', async () => {
    expect((await parseWithProgram(['send', 'c.yaml', '--no-such-option'])).error).toMatch(/unknown option/);
    expect((await parseWithProgram(['archive', 'link'])).error).toMatch(/missing required argument/);
    expect((await parseWithProgram(['render', 'x.md'])).command?.name()).toBe('render');
    expect(commandOf('pressroom archive withdraw <slug> --purge-all').flags).toContain('--purge-all');
    expect(commandOf('pressroom publihs x.md').path).toEqual([]);
  });
});
