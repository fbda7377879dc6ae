import { Command, InvalidArgumentError, Option } from 'commander';
import { startDueJobRunner } from '../../lambdas/adapters/due-job-runner.ts';
import { createLocalServer, previewPath } from '../../lambdas/adapters/local-server.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { purgeSubscriptionState } from '../../lambdas/core/contacts/subscription.ts';
import {
  ConfigurationError,
  createMailer,
  type LocalConfig,
  loadConfig,
  localBackend,
  signingSecret,
  subscriptionLists,
} from '../context.ts';
import { dataDirOption } from '../options.ts';
import { dueJobDeps } from './due.ts';

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

interface ServeOptions {
  port: number;
  host: string;
  trustProxy?: boolean;
  interval: number;
  dataDir: string;
  lists?: string;
}

/** Whether `--host` names this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * A server others reach (another address than loopback, or behind a proxy) hands out its
 * links to the world: they must be https. TLS itself is the reverse proxy's job.
 */
function checkExposedUrls(config: LocalConfig, why: string): void {
  const urls = [
    ['PRESSROOM_PUBLIC_URL', config.publicUrl, 'https://press.example.org'],
    ['PRESSROOM_SITE_URL', config.siteUrl, 'https://press.example.org/'],
  ] as const;
  for (const [name, value, example] of urls) {
    if (new URL(value).protocol === 'https:') continue;
    throw new ConfigurationError(
      `${why}, so ${name} must be the https address people reach it at (value: "${value}"). Set it, e.g. ${name}=${example}, with TLS at the reverse proxy (docs/self-hosting.md); or serve on 127.0.0.1 without --trust-proxy for a preview on this machine.`,
    );
  }
}

export const serveCommand = new Command('serve')
  .description(
    'Serve the press room, the public endpoint (unsubscribe, subscribe), signed downloads and previews',
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
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Serves site/ of the data folder at /, signed links from \`pressroom archive link\` at
${'/_signed/...'}, unsubscribe links at /unsubscribe/<token> (GET: a page with a button;
POST List-Unsubscribe=One-Click: at once), subscriptions with double opt-in at /subscribe
(GET: a form; POST email, name, list, lang: a confirmation email with a link to
/subscribe/confirm/<token>, valid 48 hours) for the open lists, and the email of a
release, filled for the sample recipient, at ${previewPath}<slug> (from this machine only, with
the link \`pressroom archive preview <slug>\` prints). Listening on another address than
loopback, or with --trust-proxy, needs https addresses in PRESSROOM_PUBLIC_URL and
PRESSROOM_SITE_URL.
Every --interval seconds it sends the campaigns that are due and publishes releases whose
embargo has passed. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM, after the requests and
sends in flight.`,
  )
  .action(async (opts: ServeOptions) => {
    const config = loadConfig(opts);
    const trustProxy = opts.trustProxy === true || config.trustProxy;
    if (trustProxy) checkExposedUrls(config, 'behind a reverse proxy (--trust-proxy) the server is public');
    else if (!isLoopbackHost(opts.host))
      checkExposedUrls(config, `listening on ${opts.host}, the server is reachable from other machines`);
    const { lists, from: listsFrom } = await subscriptionLists(opts.lists, config);
    const backend = await localBackend(config, { pdf: false });
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const mailer = await createMailer(config, backend.store);
    const server = createLocalServer({
      store: backend.store,
      sampleRecipient: backend.sampleRecipient,
      previews: new PreviewSigner(await signingSecret(backend.store.root)),
      trustProxy,
      endpoint: {
        keys: backend.keys,
        templates: backend.templates,
        mailer,
        settings: {
          publicUrl: config.publicUrl,
          lang: config.siteLang,
          lists,
          ...(config.unsubscribeMailbox && { unsubscribeMailbox: config.unsubscribeMailbox }),
        },
      },
      log,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
    const address = server.address();
    const where =
      typeof address === 'object' && address
        ? `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${address.port}/`
        : String(address);
    process.stdout.write(`pressroom serving ${backend.store.root} at ${where} (Ctrl-C to stop)\n`);
    if (trustProxy)
      process.stdout.write(
        `behind a reverse proxy: X-Forwarded-Proto, -Host and -For are believed; public address ${config.publicUrl}\n`,
      );
    process.stdout.write(
      'email previews: `pressroom archive preview <slug>` prints a link that works from this machine only\n',
    );
    const open = Object.keys(lists);
    process.stdout.write(
      open.length > 0
        ? `lists open to subscription (${listsFrom}): ${open.join(', ')}\n`
        : `no list open to subscription (${listsFrom}): /subscribe answers "unknown list"\n`,
    );
    // Expired confirmation requests (which hold unconfirmed addresses) and spent rate-limit
    // windows are removed every hour.
    const purge = () =>
      purgeSubscriptionState(backend.store, new Date()).catch((error: unknown) =>
        log(`subscription purge failed: ${(error as Error).message}`),
      );
    void purge();
    const purgeTimer = setInterval(purge, 3600_000);
    purgeTimer.unref();
    const runner = startDueJobRunner(dueJobDeps(backend, mailer, 'pressroom serve on'), {
      intervalMs: opts.interval * 1000,
      log,
    });
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('stopping: finishing requests and sends in flight\n');
      clearInterval(purgeTimer);
      server.close();
      server.closeIdleConnections();
      void runner.stop().then(() => {
        mailer.close?.();
        process.exit(0);
      });
      setTimeout(() => process.exit(0), 30_000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
