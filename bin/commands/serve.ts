import { Command, InvalidArgumentError, Option } from 'commander';
import { dataDirOption } from '../options.ts';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 60)
    throw new InvalidArgumentError('give a number of seconds from 1 to 60');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('give a port number from 0 to 65535');
  return n;
}

/** What `pressroom serve` is given. */
export interface ServeOptions {
  port: number;
  host: string;
  trustProxy?: boolean;
  interval: number;
  dataDir?: string;
  lists?: string;
  /** false with --no-pdf: no browser, no PDF. */
  pdf?: boolean;
}

/** `pressroom serve`: the local server and its due jobs (bin/actions/serve.ts does the work). */
export function serveCommand(): Command {
  // The help's /_preview/ is previewPath (lambdas/adapters/signed-downloads.ts), written out so
  // that this definition loads nothing but commander.
  return new Command('serve')
    .description(
      'Serve the press room, the public endpoint (unsubscribe, subscribe), signed downloads, previews and the web admin',
    )
    .option('--port <port>', 'TCP port (0 picks a free one)', port, 3000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--trust-proxy',
      'behind a reverse proxy: believe its X-Forwarded-Proto, -Host and -For (or PRESSROOM_TRUST_PROXY=1)',
    )
    .option('--interval <seconds>', 'how often due campaigns and embargoes are checked', seconds, 30)
    .addOption(
      new Option(
        '--lists <file>',
        "lists open to subscription, in the lists.yaml format (default: the workspace's lists with subscription: open; outside a workspace, ./lists.yaml when present)",
      ).env('PRESSROOM_LISTS'),
    )
    .option(
      '--no-pdf',
      "print no PDF (the admin's PDF preview and publishing): no browser is looked for or started",
    )
    .addOption(dataDirOption)
    .addHelpText(
      'after',
      `
Serves site/ of the data folder at /, signed links from \`pressroom archive link\` at
${'/_signed/...'}, unsubscribe links at /unsubscribe/<token> (GET: a page with a button;
POST List-Unsubscribe=One-Click: at once), subscriptions with double opt-in at /subscribe
(GET: a form; POST email, name, list, lang: a confirmation email with a link to
/subscribe/confirm/<token>, valid 48 hours) for the open lists, and the email of a
release, filled for the sample recipient, at /_preview/<slug> (from this machine only, with
the link \`pressroom archive preview <slug>\` prints). Listening on another address than
loopback, or with --trust-proxy, needs https addresses in PRESSROOM_PUBLIC_URL and
PRESSROOM_SITE_URL.
The web admin is at /admin/ (docs/admin.md): it asks for the admin token, from
PRESSROOM_ADMIN_TOKEN (32 characters or more), else one made at start and printed here
(a new one each run). Send it as Authorization: Bearer <token>, or give it once at
/admin/sign-in for a session cookie.
Every --interval seconds it sends the campaigns that are due and publishes releases whose
embargo has passed. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM, after the requests and
sends in flight.`,
    )
    .action(async (opts: ServeOptions) => (await import('../actions/serve.ts')).serve(opts));
}
