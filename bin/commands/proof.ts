import { Command, InvalidArgumentError, Option } from 'commander';
import { type BackendKind, backendOption, dataDirOption } from '../options.ts';

/*
 * `pressroom proof`: a signed, expiring link to a campaign's proof. This module only defines
 * the command; bin/actions/proof.ts does the work when it runs.
 */

/** What `pressroom proof` is given. */
export interface ProofOptions {
  /** Seconds, from `--valid`. */
  valid: number;
  json?: boolean;
  dataDir?: string;
  backend: BackendKind;
}

/** `7d`, `36h`, `90m` → seconds; from 1 minute to 90 days. */
export function validity(value: string): number {
  const match = /^(\d{1,4})\s*([dhm])$/.exec(value.trim());
  const seconds = match
    ? Number(match[1]) * { d: 86_400, h: 3_600, m: 60 }[match[2] as 'd' | 'h' | 'm']
    : NaN;
  if (!(seconds >= 60 && seconds <= 90 * 86_400))
    throw new InvalidArgumentError('give a duration such as 7d, 36h or 90m (from 1 minute to 90 days)');
  return seconds;
}

export function proofCommand(): Command {
  return new Command('proof')
    .description(
      'Make a signed, expiring link to a proof of a campaign: the email at desktop and phone widths, its text, the page and the PDF',
    )
    .argument('<campaign.yaml>', 'the campaign file')
    .addOption(
      new Option('--valid <duration>', 'how long the link works: 7d, 36h, 90m (at most 90d)')
        .argParser(validity)
        .default(7 * 86_400, '7d'),
    )
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption)
    .addOption(backendOption)
    .addHelpText(
      'after',
      `
The proof shows the campaign as it would be sent now, its email filled for a made-up
recipient, "Prénom Nom" (never a real contact: whoever holds the link sees it).
The link goes to the public address: PRESSROOM_PUBLIC_URL (\`pressroom serve\` answers it,
http://localhost:3000 by default), or the press room's domain with --backend aws. It names
one version: anything changed later (the campaign file, the release published again) needs
a new proof. \`pressroom campaign approve <name> --by "Name"\` approves the latest proof.

Example:
  $ pressroom proof examples/campaigns/etude-2021-presse.yaml --valid 3d`,
    )
    .action(async (file: string, opts: ProofOptions) =>
      (await import('../actions/proof.ts')).proofCampaignFile(file, opts),
    );
}
