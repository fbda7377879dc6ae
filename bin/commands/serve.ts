import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startDueJobRunner } from '../../lambdas/adapters/due-job-runner.ts';
import { createLocalServer, previewPath } from '../../lambdas/adapters/local-server.ts';
import { purgeSubscriptionState } from '../../lambdas/core/contacts/subscription.ts';
import {
  parseSubscribableLists,
  type SubscribableLists,
} from '../../lambdas/core/contacts/subscription-lists.ts';
import { InvalidInputError } from '../../lambdas/core/errors.ts';
import { createMailer, dataDirOption, loadConfig, localBackend } from '../context.ts';
import { localSendDeps } from './send.ts';

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

const defaultListsFile = 'lists.yaml';

/**
 * The lists open to subscription: the file named, or `lists.yaml` of the current folder
 * when there is one; none otherwise (every subscription then answers "unknown list").
 */
async function readLists(file: string | undefined): Promise<{ lists: SubscribableLists; file?: string }> {
  const name = file ?? defaultListsFile;
  let source: string;
  try {
    source = await readFile(name, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && file === undefined) return { lists: {} };
    throw new InvalidInputError([
      { file: name, path: '', message: `cannot read the lists file: ${(error as Error).message}` },
    ]);
  }
  return { lists: parseSubscribableLists(source, name), file: name };
}

export const serveCommand = new Command('serve')
  .description(
    'Serve the press room, the public endpoint (unsubscribe, subscribe), signed downloads and previews',
  )
  .option('--port <port>', 'TCP port (0 picks a free one)', port, 3000)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--interval <seconds>', 'how often due campaigns and embargoes are checked', seconds, 30)
  .addOption(
    new Option(
      '--lists <file>',
      `lists open to subscription (default: ./${defaultListsFile} when present)`,
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
/subscribe/confirm/<token>, valid 48 hours) for the lists of --lists, and the email of a
release, filled for the sample recipient, at ${previewPath}<slug> (from this machine only).
Every --interval seconds it sends the campaigns that are due and publishes releases whose
embargo has passed. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM, after the requests and
sends in flight.`,
  )
  .action(async (opts: { port: number; host: string; interval: number; dataDir: string; lists?: string }) => {
    const config = loadConfig(opts);
    const { lists, file: listsFile } = await readLists(opts.lists);
    const backend = await localBackend(config, { pdf: false });
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const mailer = await createMailer(config, backend.store);
    const server = createLocalServer({
      store: backend.store,
      sampleRecipient: backend.sampleRecipient,
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
    const open = Object.keys(lists);
    process.stdout.write(
      open.length > 0
        ? `lists open to subscription (${listsFile}): ${open.join(', ')}\n`
        : `no list open to subscription (${listsFile ? `none in ${listsFile}` : `no ./${defaultListsFile}`}): /subscribe answers "unknown list"\n`,
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
    const runner = startDueJobRunner(
      {
        send: localSendDeps(backend, mailer, 'pressroom serve on'),
        publish: backend,
      },
      { intervalMs: opts.interval * 1000, log },
    );
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
