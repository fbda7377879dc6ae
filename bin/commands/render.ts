import { Command } from 'commander';
import { dataDirOption } from '../options.ts';

/** What `pressroom render` is given. */
export interface RenderOptions {
  out?: string;
  templates?: string;
  json?: boolean;
  dataDir?: string;
}

/** `pressroom render`: the command's definition (bin/actions/render.ts does the work). */
export function renderCommand(): Command {
  return new Command('render')
    .description('Render a publication as an HTML email, a plain-text email, a web page and a preview')
    .argument('<publication>', 'the publication file (Markdown with YAML front matter)')
    .option('--out <dir>', 'output folder (default: ./out/<slug>/)')
    .option('--templates <dir>', 'template folder laid out like templates/ (or PRESSROOM_TEMPLATES_DIR)')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addHelpText(
      'after',
      `
Writes email.html and email.txt (recipient placeholders still in), page.html, preview.html
and preview.txt (filled for a sample recipient), publication.json, and the attachments under
files/. The folder is replaced all at once; on any problem nothing is written.

Example:
  $ pressroom render examples/publications/2021-06-08-numerique-gestion-de-crise.md`,
    )
    .action(async (publication: string, opts: RenderOptions) =>
      (await import('../actions/render.ts')).renderRelease(publication, opts),
    );
}
