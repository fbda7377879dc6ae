import { homedir } from 'node:os';
import path from 'node:path';
import { exitCodes, PressroomError } from '../lambdas/core/errors.ts';

/**
 * Text for a terminal: control characters other than newline and tab are shown as escapes
 * (`\x1B`), so data (a contact's name, a file's content in an error) cannot move the cursor,
 * rewrite a line or change the terminal's state.
 */
export function forTerminal(text: string): string {
  // C0 controls but \t and \n, DEL, and the C1 controls (U+0080–U+009F), and the bidi
  // overrides that can make a line read differently from what it holds.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0).toString(16).toUpperCase();
    return code.length <= 2 ? `\\x${code.padStart(2, '0')}` : `\\u${code}`;
  });
}

/** `~/presse/.pressroom` rather than `/home/someone/presse/.pressroom`. */
export function shortPath(file: string): string {
  const home = homedir();
  return home && home !== path.parse(home).root && (file === home || file.startsWith(`${home}${path.sep}`))
    ? `~${file.slice(home.length)}`
    : file;
}

/** Whether the command runs with --json (set once before its action runs). */
let jsonOutput = false;
/** The store a --json command used, until its result carries it. */
let storeToReport: { where: string; line: string } | undefined;
let storesShown = new Set<string>();

export function setJsonOutput(json: boolean): void {
  jsonOutput = json;
}

/**
 * Says which store the command uses: one line on stderr (`store: ~/presse/.pressroom
 * (workspace ~/presse)`), so that stdout stays the command's result; with --json, a `store`
 * field in the result instead (or that line, when the result is a list).
 */
export function announceStore(where: string, why: string): void {
  if (storesShown.has(where)) return;
  storesShown = new Set([...storesShown, where]);
  const line = `store: ${shortPath(where)} (${why})`;
  if (jsonOutput) storeToReport = { where, line };
  else process.stderr.write(`${forTerminal(line)}\n`);
}

/** Results go to stdout: lines for people (made safe for a terminal), or one JSON document with --json. */
export function print(result: unknown, json = false): void {
  if (json) {
    const store = storeToReport;
    storeToReport = undefined;
    const isRecord = typeof result === 'object' && result !== null && !Array.isArray(result);
    if (store && !isRecord) process.stderr.write(`${forTerminal(store.line)}\n`);
    const withStore = store && isRecord && !('store' in result) ? { ...result, store: store.where } : result;
    process.stdout.write(`${JSON.stringify(withStore, null, 2)}\n`);
  } else
    process.stdout.write(`${forTerminal((Array.isArray(result) ? result : [String(result)]).join('\n'))}\n`);
}

/** True when the user asked for stack traces: PRESSROOM_DEBUG=1 (or any value but 0/false). */
export function debugEnabled(env = process.env): boolean {
  const v = env.PRESSROOM_DEBUG;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Errors go to stderr with a non-zero exit. Ours say what is wrong and what to do, and exit
 * with their own code (1 input, 3 busy or paused...). Anything else is a bug in pressroom:
 * one line and a request for a report; the stack only with PRESSROOM_DEBUG=1.
 */
export function fail(error: unknown): never {
  if (error instanceof PressroomError) {
    process.stderr.write(`pressroom: ${forTerminal(error.message)}\n`);
    if (debugEnabled() && error.stack) process.stderr.write(`${forTerminal(error.stack)}\n`);
    process.exit(error.exitCode);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(
    `pressroom: internal error: ${forTerminal(message.split('\n')[0] ?? '')}\n` +
      (debugEnabled()
        ? `${forTerminal(error instanceof Error ? (error.stack ?? '') : '')}\n`
        : '  This is a bug in pressroom, not in your files: please report it with the command you ran.\n' +
          '  Run it again with PRESSROOM_DEBUG=1 to see the details to include.\n'),
  );
  process.exit(exitCodes.internal);
}

/** Notices (a file converted to UTF-8...) go to stderr, one `pressroom: ` line each, so stdout stays the result. */
export function warn(notices: readonly string[]): void {
  for (const notice of notices) process.stderr.write(`pressroom: ${forTerminal(notice)}\n`);
}
