/**
 * `npm start`: a demo that touches nothing real. It copies examples/ into a demo workspace of
 * its own (under the system's temporary folder, or PRESSROOM_DEMO_DIR), renders the seed
 * release, publishes every example release and newsletter issue there, imports the sample
 * press list, sends the seed release's campaign to the demo's outbox, and says where
 * everything is and how to serve that press room. It never reads the user's store or mailer
 * settings, and starts afresh at each run.
 */
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseDownloads, siteKeys } from '../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../lambdas/core/archive/publish.ts';
import { loadCampaignFile } from '../lambdas/core/campaigns/campaign-file.ts';
import { sendCampaign } from '../lambdas/core/campaigns/send.ts';
import { importContacts } from '../lambdas/core/contacts/import.ts';
import { PressroomError } from '../lambdas/core/errors.ts';
import { publishIssue } from '../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../lambdas/core/newsletter/render.ts';
import { renderToFolders } from './actions/render.ts';
import { campaignDefaults, createMailer, type LocalConfig, loadConfig, localBackend } from './context.ts';
import { fail } from './output.ts';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const seed = 'publications/2021-06-08-numerique-gestion-de-crise.md';
const seedCampaign = 'campaigns/etude-2021-presse.yaml';
const seedContacts = 'contacts/journalistes.csv';
/** The file that says a folder is a demo workspace, which the next run may delete and remake. */
export const demoMarker = '.pressroom-demo';
/** Every link the demo writes points at the local server (`pressroom serve`). */
const localUrl = 'http://localhost:3000';
/** What the demo still reads from the environment: nothing that writes or sends anywhere. */
const kept = new Set(['PRESSROOM_TIME_ZONE', 'PRESSROOM_DEBUG', 'PRESSROOM_DEMO_DIR']);

/** The demo's folder: PRESSROOM_DEMO_DIR, else `pressroom-demo` in the system's temporary folder. */
export function demoDir(env = process.env): string {
  return env.PRESSROOM_DEMO_DIR
    ? path.resolve(env.PRESSROOM_DEMO_DIR)
    : path.join(tmpdir(), 'pressroom-demo');
}

/**
 * Makes `dir` a fresh copy of examples/. A folder that is there already is deleted only when
 * it is a demo folder (it holds the marker file) and belongs to this user; an empty folder
 * is used as it is; anything else is refused and left alone.
 */
async function freshDemoWorkspace(dir: string): Promise<void> {
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const leaveAlone = (why: string) =>
    new PressroomError(
      `${dir} ${why}: the demo leaves it alone. Remove it yourself, or set PRESSROOM_DEMO_DIR to another folder`,
    );
  if (info) {
    if (!info.isDirectory()) throw leaveAlone('exists and is not a folder');
    const ours = await lstat(path.join(dir, demoMarker)).then(
      (m) => m.isFile() && (process.getuid === undefined || info.uid === process.getuid()),
      () => false,
    );
    if (ours) await rm(dir, { recursive: true });
    else if ((await readdir(dir)).length > 0)
      throw leaveAlone(`exists and was not made by the demo (it has no ${demoMarker} file)`);
  }
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, demoMarker),
    'Made by `npm start` (the pressroom demo), which deletes and remakes this folder at each run.\n',
  );
  // The examples as shipped: not a store or output someone made by running commands in examples/.
  await cp(examples, dir, {
    recursive: true,
    filter: (from) => {
      const top = path.relative(examples, from).split(path.sep)[0] ?? '';
      return !top.startsWith('.') && top !== 'out';
    },
  });
}

async function main(): Promise<void> {
  const dir = demoDir();
  const ignored = Object.keys(process.env)
    .filter((name) => name.startsWith('PRESSROOM_') && !kept.has(name))
    .sort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ignored.includes(name)));
  await freshDemoWorkspace(dir);
  // The demo works in its workspace as a user would, with paths relative to it.
  process.chdir(dir);
  const loaded = loadConfig({}, env, dir);
  const config: LocalConfig = {
    ...loaded,
    publicUrl: localUrl,
    siteUrl: `${localUrl}/`,
    mailer: { kind: 'outbox' },
  };
  const lines = [
    `pressroom demo in ${dir}: a fresh copy of examples/ at each run; nothing else is read or written.`,
    ...(ignored.length
      ? [
          `The demo ignores ${ignored.join(', ')}: it has a store of its own, always mails to its outbox (never a real mailer), and its links are ${localUrl}.`,
        ]
      : []),
    '',
  ];
  const backend = await localBackend(config);
  let summary: string[];
  try {
    const [rendered] = await renderToFolders([seed], { outRoot: 'out', templates: config.templatesDir });
    if (!rendered) throw new Error('the seed release rendered nothing');
    lines.push(`rendered   ${rendered.slug} into ${path.resolve(rendered.dir)}/`);

    // A translation (`translationOf`) is published after the release it translates.
    const names = (await readdir('publications')).filter((f) => f.endsWith('.md')).sort();
    const translates = new Set<string>();
    for (const f of names)
      if (/^translationOf:/m.test(await readFile(path.join('publications', f), 'utf8'))) translates.add(f);
    const publications = [
      ...names.filter((f) => !translates.has(f)),
      ...names.filter((f) => translates.has(f)),
    ];
    let seedPdf: { stored: true } | { stored: false; reason: string } = {
      stored: false,
      reason: 'not published',
    };
    for (const file of publications) {
      const result = await publishRelease(path.join('publications', file), backend, { replace: true });
      if (result.slug === rendered.slug) seedPdf = result.pdf;
      lines.push(`published  ${result.slug} (${result.state})`);
    }
    const issueDeps = { ...backend, renderer: createNewsletterRenderer(backend.templates) };
    for (const file of (await readdir('newsletters')).filter((f) => f.endsWith('.md')).sort()) {
      const result = await publishIssue(path.join('newsletters', file), issueDeps, { replace: true });
      lines.push(`published  newsletter ${result.id} (${result.state})`);
    }

    const report = await importContacts(createReadStream(seedContacts), seedContacts, backend, {
      list: 'presse',
      source: `import:${path.basename(seedContacts)}`,
      now: new Date(),
    });
    lines.push(
      `imported   ${seedContacts} into the list "presse": ${report.added} added, ${report.rejected.length} rejected`,
    );

    const campaign = await loadCampaignFile(seedCampaign, backend.files, campaignDefaults(config));
    const mailer = await createMailer(config, backend.store);
    const sent = await sendCampaign(
      campaign,
      {
        store: backend.store,
        mailer,
        keys: backend.keys,
        publicUrl: config.publicUrl,
        ...(config.unsubscribeMailbox && { unsubscribeMailbox: config.unsubscribeMailbox }),
      },
      { rate: 50 },
    );
    mailer.close?.();
    lines.push(
      `sent       the campaign "${campaign.name}" to the outbox: ${sent.sent} sent, ${sent.failed} failed (${sent.state})`,
    );

    const store = backend.store;
    summary = [
      '',
      'Where to look:',
      `  email       ${path.resolve(rendered.dir, 'preview.html')} (as a journalist receives it)`,
      `  page        ${store.fileOf(siteKeys.release(rendered.slug))}`,
      `  PDF         ${
        seedPdf.stored
          ? store.fileOf(`${siteKeys.releasePrefix(rendered.slug)}${releaseDownloads.pdf}`)
          : `none: ${seedPdf.reason}`
      }`,
      `  outbox      ${store.fileOf(`outbox/${campaign.name}`)}/ (${sent.sent} .eml files)`,
      `  press room  ${store.fileOf(siteKeys.index)}`,
      '',
      'Serve the demo press room in a browser (from this project), then open http://localhost:3000/:',
      `  npx pressroom serve --data-dir ${store.root} --lists ${path.join(dir, 'lists.yaml')}`,
    ];
  } finally {
    await backend.close();
  }
  process.stdout.write(`${[...lines, ...summary].join('\n')}\n`);
}

main().catch(fail);
