import { PressroomError } from '../lambdas/core/errors.ts';

/** Results go to stdout: lines for people, or one JSON document with --json. */
export function print(result: unknown, json = false): void {
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${(Array.isArray(result) ? result : [String(result)]).join('\n')}\n`);
}

/** Errors go to stderr with a non-zero exit: ours as they are, others with their stack. */
export function fail(error: unknown): never {
  if (error instanceof PressroomError) {
    process.stderr.write(`pressroom: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `pressroom: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(70);
}
