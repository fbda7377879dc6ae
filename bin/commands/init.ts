import { Command, InvalidArgumentError, Option } from 'commander';
// time.ts imports nothing: it is light enough for the definition.
import { systemTimeZone } from '../../lambdas/core/campaigns/time.ts';
// languages.ts imports nothing: light enough for the definition.
import { type Language, languages } from '../../lambdas/core/publication/languages.ts';

/** What `pressroom init` is given. */
export interface InitOptions {
  name?: string;
  language: Language;
  timeZone: string;
  publicUrl: string;
  sender?: string;
  json?: boolean;
}

function oneLine(what: string) {
  return (value: string): string => {
    const v = value.trim();
    if (!v || /[\r\n<>]/.test(v)) throw new InvalidArgumentError(`give ${what} on one line, without < or >`);
    return v;
  };
}

function publicUrl(value: string): string {
  if (!/^https?:\/\/[^/\s]+/.test(value) || !URL.canParse(value))
    throw new InvalidArgumentError(
      'give an absolute http:// or https:// URL, e.g. https://presse.example.org',
    );
  return value.replace(/\/+$/, '');
}

/**
 * `pressroom init` (bin/actions/init.ts does the work, and checks --time-zone and --sender).
 * A new command each call.
 */
export function initCommand(): Command {
  return new Command('init')
    .description(
      'Create a workspace: pressroom.yaml, folders for publications, organisations, contacts and campaigns, and one example of each',
    )
    .argument('[dir]', 'the folder (created when missing)', '.')
    .option(
      '--name <name>',
      'your organisation (default: "Mon organisation" / "My organisation")',
      oneLine('a name'),
    )
    .addOption(
      new Option('--language <lang>', 'language of the press room and of the examples')
        .choices(languages)
        .default('fr'),
    )
    .option('--time-zone <zone>', 'the zone times are shown in, and sendAt is read in', systemTimeZone())
    .option(
      '--public-url <url>',
      'the base of links in emails (https for real sends)',
      publicUrl,
      'http://localhost:3000',
    )
    .option(
      '--sender <sender>',
      'the default sender, "Name <address>" (default: your name, an example.org address)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Never overwrites a file: one that is already there is kept (a .gitignore gets the store's
lines added). Refused when the folder already has a pressroom.yaml. Commands run in the
folder or below it then use its settings and its store (.pressroom/). See docs/workspace.md.

Example:
  $ pressroom init presse --name "Villes Internet" --time-zone Europe/Paris`,
    )
    .action(async (dir: string, opts: InitOptions) =>
      (await import('../actions/init.ts')).createWorkspace(dir, opts),
    );
}
