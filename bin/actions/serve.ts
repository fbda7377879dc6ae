import {
  loadCampaignTemplates,
  workspaceCampaignFiles,
  workspaceSenders,
} from '../../lambdas/adapters/admin-campaign-files.ts';
import { loadContactsTemplates } from '../../lambdas/adapters/admin-contacts-files.ts';
import { loadAdminTemplates, workspaceReleaseSources } from '../../lambdas/adapters/admin-files.ts';
import { loadNewsletterPages } from '../../lambdas/adapters/admin-newsletter-files.ts';
import { startDueJobRunner } from '../../lambdas/adapters/due-job-runner.ts';
import { createLocalServer } from '../../lambdas/adapters/local-server.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { type AdminDeps, adminState } from '../../lambdas/core/admin/admin.ts';
import { CampaignRuns } from '../../lambdas/core/admin/campaign-runs.ts';
import {
  type AdminCampaignDeps,
  adminSendRole,
  resumeInterruptedSends,
} from '../../lambdas/core/admin/campaigns.ts';
import { removeOldUploads } from '../../lambdas/core/admin/contacts.ts';
import { adminKeys, generateAdminToken } from '../../lambdas/core/admin/session.ts';
import { purgeSubscriptionState } from '../../lambdas/core/contacts/subscription.ts';
import { createNewsletterRenderer } from '../../lambdas/core/newsletter/render.ts';
import type { ServeOptions } from '../commands/serve.ts';
import {
  ConfigurationError,
  campaignDefaults,
  createMailer,
  type LocalConfig,
  loadConfig,
  localBackend,
  signingSecret,
  subscriptionLists,
} from '../context.ts';
import { dueJobDeps } from './due.ts';
import { localSendDeps } from './send.ts';

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

/**
 * `pressroom serve`: serves the press room, the public endpoint (unsubscribe, subscribe), signed
 * downloads and email previews, and runs the due jobs every --interval seconds, until Ctrl-C
 * or SIGTERM (then it finishes the requests and sends in flight).
 */
export async function serve(opts: ServeOptions): Promise<void> {
  const config = loadConfig(opts);
  const trustProxy = opts.trustProxy === true || config.trustProxy;
  if (trustProxy) checkExposedUrls(config, 'behind a reverse proxy (--trust-proxy) the server is public');
  else if (!isLoopbackHost(opts.host))
    checkExposedUrls(config, `listening on ${opts.host}, the server is reachable from other machines`);
  const { lists, from: listsFrom } = await subscriptionLists(opts.lists, config);
  // The PDF printer finds its browser as `pressroom publish` does (CHROMIUM_PATH, a system
  // Chromium, @sparticuz/chromium), on the first PDF only; `--no-pdf` starts none.
  const backend = await localBackend(config, { pdf: opts.pdf !== false });
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const mailer = await createMailer(config, backend.store);
  const secret = await signingSecret(backend.store.root);
  // A token made for this run is printed once, on the terminal, and nowhere else.
  const adminToken = config.adminToken ?? generateAdminToken();
  // The admin's campaigns: sends run in this process, through the same ledger and mailer.
  const campaignRuns = new CampaignRuns(log);
  const campaigns: AdminCampaignDeps = {
    files: workspaceCampaignFiles(config.workspace?.root, backend.files),
    defaults: campaignDefaults(config),
    lists: Object.fromEntries(
      Object.values(config.lists).map((l) => [l.name, l.title[config.siteLang] ?? l.name]),
    ),
    senders: () => workspaceSenders(config.workspace?.root, config.sender),
    send: localSendDeps(backend, mailer, adminSendRole),
    runs: campaignRuns,
    publicUrl: config.publicUrl,
    timeZone: config.timeZone,
    templates: await loadCampaignTemplates(),
  };
  const admin: AdminDeps = {
    adminToken,
    keys: adminKeys(adminToken, secret),
    templates: await loadAdminTemplates(),
    releases: {
      sources: workspaceReleaseSources(config.workspace?.root, backend.files),
      renderer: backend.renderer,
      sampleRecipient: backend.sampleRecipient,
      store: backend.store,
      siteUrl: config.siteUrl,
      // Publish and withdraw as the command line does, with the PDF when a browser is found.
      publishing: backend,
      newsletters: {
        sources: workspaceReleaseSources(config.workspace?.root, backend.files, 'newsletters'),
        renderer: createNewsletterRenderer(backend.templates),
        locales: backend.templates.locales,
        timeZone: config.timeZone,
        lang: config.siteLang,
        pages: await loadNewsletterPages(),
      },
      campaigns,
    },
    lang: config.siteLang,
    // Cookies travel only over https once the server is reached from elsewhere (TLS at the proxy).
    secureCookies: trustProxy || !isLoopbackHost(opts.host),
    // The contacts section: the store and keys `pressroom contacts` uses; pressroom.yaml's lists.
    contacts: {
      store: backend.store,
      keys: backend.keys,
      lists: Object.values(config.lists).map((l) => ({ name: l.name, title: l.title[config.siteLang] })),
      templates: await loadContactsTemplates(),
    },
    ...adminState(),
    now: () => new Date(),
  };
  // Contacts uploaded to the admin's import and not confirmed hold personal data: those staged
  // over an hour ago are removed now, before the admin opens, then every hour (below).
  const removeUploads = () =>
    removeOldUploads({ store: backend.store, now: new Date() }).then(
      (removed) => {
        if (removed > 0) log(`import uploads sweep: ${removed} upload(s) over an hour old removed`);
      },
      (error: unknown) => log(`import uploads sweep failed: ${(error as Error).message}`),
    );
  await removeUploads();
  const server = createLocalServer({
    store: backend.store,
    sampleRecipient: backend.sampleRecipient,
    previews: new PreviewSigner(secret),
    admin,
    trustProxy,
    endpoint: {
      keys: backend.keys,
      templates: backend.templates,
      mailer,
      settings: {
        publicUrl: config.publicUrl,
        lang: config.siteLang,
        lists,
        // What the unsubscribe page calls each list, closed ones (the press list) too.
        listTitles: Object.fromEntries(Object.values(config.lists).map((l) => [l.name, l.title])),
        ...(config.unsubscribeMailbox && { unsubscribeMailbox: config.unsubscribeMailbox }),
        timeZone: config.timeZone,
      },
      // The hourly cap on confirmation emails (the core's default): a count, never who asked.
      onCapped: (cap) =>
        log(
          `subscription confirmations capped for this hour (${cap.limit}); retry in ${cap.retryAfterSeconds} s`,
        ),
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
  process.stdout.write(
    config.adminToken === undefined
      ? `admin: ${where}admin/ with the token ${adminToken} (made for this run; set PRESSROOM_ADMIN_TOKEN to keep one)\n`
      : `admin: ${where}admin/ with the token of PRESSROOM_ADMIN_TOKEN\n`,
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
    purgeSubscriptionState(backend.store, new Date()).then(
      // Counts only: the requests held addresses.
      (removed) => {
        if (removed.pending + removed.throttles > 0)
          log(
            `subscription sweep: ${removed.pending} request record(s), ${removed.throttles} window(s) removed`,
          );
      },
      (error: unknown) => log(`subscription sweep failed: ${(error as Error).message}`),
    );
  void purge();
  const purgeTimer = setInterval(() => void Promise.all([purge(), removeUploads()]), 3600_000);
  purgeTimer.unref();
  // Campaigns an admin send of a server that died left half sent go on (the ledger skips who has an outcome).
  void resumeInterruptedSends(campaigns, new Date()).then(
    (names) => {
      if (names.length > 0) log(`resumed the admin's interrupted sends: ${names.join(', ')}`);
    },
    (error: unknown) => log(`resuming the admin's interrupted sends failed: ${(error as Error).message}`),
  );
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
    void Promise.all([runner.stop(), campaignRuns.stopAll()])
      .then(() => {
        mailer.close?.();
        // The PDF printer's browser, when one was started.
        return backend.close();
      })
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 30_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
