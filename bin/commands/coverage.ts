import { Command } from 'commander';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/** What `pressroom coverage add` is given. */
export interface CoverageAddOptions {
  outlet: string;
  date: string;
  title?: string;
  language?: string;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom coverage list` is given. */
export interface CoverageListOptions {
  csv?: string;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** What `pressroom coverage remove` is given. */
export interface CoverageRemoveOptions {
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

const actions = () => import('../actions/coverage.ts');

/** `pressroom coverage`: articles that cite a release (bin/actions/coverage.ts does the work). */
export function coverageCommand(): Command {
  const add = new Command('add')
    .description('Record an article that cites a release; its page shows it under "In the press"')
    .argument('<slug>', 'the release, as `archive list` shows it')
    .argument('<url>', "the article's https address")
    .requiredOption('--outlet <name>', 'the newspaper, magazine, site or programme')
    .requiredOption('--date <yyyy-mm-dd>', 'when the article appeared')
    .option('--title <text>', "the article's title (the link shows the outlet's name without one)")
    .option('--language <code>', "the article's language when it is not the release's: fr, en, de-CH…")
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
The same address again replaces what was recorded of it. The release's page in the press
room is rendered again (as \`archive rebuild <slug>\` does) with the articles, newest first,
and the press room's coverage page (coverage/index.html) lists those of every public release.

Example:
  $ pressroom coverage add gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes https://www.quotidien-ouest.example.com/2021/06/09/villes-moyennes --outlet "Quotidien de l’Ouest" --date 2021-06-09 --title "Les villes moyennes face à la crise"`,
    )
    .action(async (slug: string, url: string, opts: CoverageAddOptions) =>
      (await actions()).addCoverageArticle(slug, url, opts),
    );

  const list = new Command('list')
    .description('List the articles recorded, newest first: of one release, or of all')
    .argument('[slug]', 'only this release')
    .option('--csv <file>', 'write them as CSV for a spreadsheet into this file')
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
Examples:
  $ pressroom coverage list
  $ pressroom coverage list --csv retombees.csv`,
    )
    .action(async (slug: string | undefined, opts: CoverageListOptions) =>
      (await actions()).listCoverageArticles(slug, opts),
    );

  const remove = new Command('remove')
    .description("Remove an article from a release's coverage")
    .argument('<slug>', 'the release')
    .argument('<url>', "the article's address, as `coverage list` shows it")
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .action(async (slug: string, url: string, opts: CoverageRemoveOptions) =>
      (await actions()).removeCoverageArticle(slug, url, opts),
    );

  return new Command('coverage')
    .description('Press coverage: articles that cite a release, on its page and the coverage page')
    .addCommand(add)
    .addCommand(list)
    .addCommand(remove);
}
