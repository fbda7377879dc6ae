/**
 * Typed errors of the core. User-facing messages say what is wrong, where (file, line,
 * field, value) and what to do; the command-line tool prints them as they are.
 */

/** One problem found in an input file. */
export interface Problem {
  /** The file, as the user named it. */
  file: string;
  /** 1-based line, where the parser knows it. */
  line?: number;
  /** 1-based column, where the parser knows it. */
  column?: number;
  /** The field path, e.g. `publishers[0].pressContact.email`; empty for the whole file. */
  path: string;
  /** What is wrong and what to do. */
  message: string;
  /** The offending value, where there is one. */
  value?: unknown;
}

/**
 * How a command ends, for scripts and schedulers (docs/commands.md lists them):
 * 1 the input is wrong (a file, a value, the configuration: the message says where);
 * 2 the command line is wrong (unknown command or option, missing argument);
 * 3 busy or paused: another run holds the campaign, or the mail provider is unreachable or
 *   refuses everything; nothing was lost, try again later (or `--wait`);
 * 4 still pending: an upload to the stack got no result in time;
 * 70 an internal error (a bug: one line, and a request for a report);
 * 130 interrupted (Ctrl-C).
 */
export const exitCodes = {
  input: 1,
  usage: 2,
  busy: 3,
  pending: 4,
  internal: 70,
  interrupted: 130,
} as const;

/** Base class of every error pressroom reports to its users. */
export class PressroomError extends Error {
  override name = 'PressroomError';
  /** The exit code of a command that stops on this error. */
  readonly exitCode: number = exitCodes.input;
}

/**
 * Not now, but nothing is wrong with the input: the campaign is held by another run, or the
 * provider is unavailable. The command exits with code 3; running it again later resumes.
 */
export class BusyError extends PressroomError {
  override name = 'BusyError';
  override readonly exitCode: number = exitCodes.busy;
}

/**
 * A file of the workspace was to be written (a new release, a newsletter issue) where there is
 * no workspace: `pressroom serve --data-dir` run outside one. The admin answers 503 with this.
 */
export class NoWorkspaceError extends PressroomError {
  override name = 'NoWorkspaceError';
  constructor(what: string) {
    super(
      `no workspace here, so ${what} cannot be written: run \`pressroom serve\` inside a workspace (the folder of pressroom.yaml; \`pressroom init\` makes one)`,
    );
  }
}

/**
 * A command-line argument that is not what the command takes, found when the command runs
 * (the checks that need more than the command-line parser loads): exit code 2, as commander's
 * own usage errors.
 */
export class UsageError extends PressroomError {
  override name = 'UsageError';
  override readonly exitCode: number = exitCodes.usage;
}

/** One or more problems in the input files: nothing was written. */
export class InvalidInputError extends PressroomError {
  override name = 'InvalidInputError';
  constructor(
    readonly problems: Problem[],
    options?: ErrorOptions,
  ) {
    super(formatProblems(problems), options);
  }
}

/** The MJML compiler rejected a template: a template bug, not a data problem. */
export class TemplateError extends PressroomError {
  override name = 'TemplateError';
}

/** Formats a value for an error message: short, quoted, never multi-line. */
export function showValue(value: unknown): string {
  if (value === undefined) return '';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** `file:line:column field: message (value: "x")`, one line per problem. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.line !== undefined ? p.column : undefined]
    .filter((x) => x !== undefined)
    .join(':');
  const field = p.path ? ` ${p.path}:` : ':';
  const value = p.value !== undefined ? ` (value: ${showValue(p.value)})` : '';
  return `${where}${field} ${p.message}${value}`;
}

export function formatProblems(problems: Problem[]): string {
  const n = problems.length;
  return [
    `${n} problem${n === 1 ? '' : 's'} found; nothing was written:`,
    ...problems.map((p) => `  ${formatProblem(p)}`),
  ].join('\n');
}

/**
 * A file pressroom will not read for a publication: outside its workspace, a symbolic link,
 * not a regular file (a FIFO, a device, /proc), or over the size limit. Adapters throw it;
 * loaders turn it into a problem at the line that names the file. `kind` tells an
 * organisation lookup to pass over a candidate outside the workspace.
 */
export class RefusedFileError extends PressroomError {
  override name = 'RefusedFileError';
  constructor(
    readonly file: string,
    readonly kind: 'outside' | 'link' | 'special' | 'size',
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A file refused for its size, found before it was read (a stat, an object's head). */
export class FileTooLargeError extends RefusedFileError {
  override name = 'FileTooLargeError';
  constructor(
    file: string,
    reason: string,
    /** The file's size, and the most that was accepted, in bytes. */
    readonly size: number,
    readonly maxSize: number,
  ) {
    super(file, 'size', reason);
  }
}
