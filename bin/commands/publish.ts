import { Command } from 'commander';
import { siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { dataDirOption, loadConfig, localBackend } from '../context.ts';
import { print } from '../output.ts';

export const publishCommand = new Command('publish')
  .description('Validate, render and archive a publication, and update the press room')
  .argument('<publication>', 'the publication file (Markdown with YAML front matter)')
  .option('--replace', 'replace a release with the same slug that came from another file')
  .option('--no-pdf', 'do not print a PDF (by default Chromium prints one when it is installed)')
  .option('--templates <dir>', 'template folder laid out like templates/')
  .option('--json', 'print the result as JSON')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Publishing the same file again updates its release in place. A release with an embargo in
the future, or "visibility: private", is archived but stays out of the public press room and
feeds (\`pressroom archive refresh\` publishes releases whose embargo has passed).

Example:
  $ pressroom publish examples/publications/2021-06-08-numerique-gestion-de-crise.md`,
  )
  .action(
    async (
      file: string,
      opts: { replace?: boolean; pdf: boolean; templates?: string; json?: boolean; dataDir: string },
    ) => {
      const backend = await localBackend(loadConfig(opts), { pdf: opts.pdf });
      try {
        const result = await publishRelease(file, backend, { replace: opts.replace === true });
        const index = backend.store.fileOf(siteKeys.index);
        if (opts.json) return print({ ...result, pressRoomIndex: index }, true);
        print([
          `${result.action === 'created' ? 'Published' : result.action === 'updated' ? 'Updated' : 'Replaced'} ${result.slug} (${result.state})`,
          result.url
            ? `  page        ${result.url}`
            : `  not in the public press room (${result.state}); \`pressroom archive link ${result.slug}\` gives signed links`,
          `  PDF         ${result.pdf.stored ? 'stored' : `skipped: ${result.pdf.reason}`}`,
          `  press room  ${index}`,
        ]);
      } finally {
        await backend.close();
      }
    },
  );
