import { expectExit, type Run } from './cli.ts';

/**
 * Publishes `files` without PDFs and imports the example journalists into the list "presse",
 * with `pressroom` running the real command in a workspace; fails on the first error.
 */
export async function publishToPressList(
  pressroom: (...args: string[]) => Promise<Run>,
  files: string[],
): Promise<void> {
  for (const file of files) expectExit(await pressroom('publish', file, '--no-pdf'), 0);
  expectExit(
    await pressroom('contacts', 'import', 'examples/contacts/journalistes.csv', '--list', 'presse'),
    0,
  );
}
