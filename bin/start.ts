/**
 * `npm start`: the whole pipeline on the local default, with the examples. It publishes every
 * publication in examples/publications/ (render, archive, press room) and every newsletter
 * issue in examples/newsletters/, imports the sample press list, and sends the seed
 * release's campaign to the outbox (.eml files), then says where everything is. Run it
 * again: nothing is sent twice.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteKeys } from '../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../lambdas/core/archive/publish.ts';
import { loadCampaignFile } from '../lambdas/core/campaigns/campaign.ts';
import { sendCampaign } from '../lambdas/core/campaigns/send.ts';
import { importContacts } from '../lambdas/core/contacts/import.ts';
import { publishIssue } from '../lambdas/core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../lambdas/core/newsletter/render.ts';
import { createMailer, loadConfig, localBackend } from './context.ts';
import { fail } from './output.ts';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const relative = (...parts: string[]) => path.relative(process.cwd(), path.join(examples, ...parts));

async function main(): Promise<void> {
  const config = loadConfig({});
  const backend = await localBackend(config);
  const lines: string[] = [];
  try {
    const files = (await readdir(path.join(examples, 'publications')))
      .filter((f) => f.endsWith('.md'))
      .sort();
    lines.push(`1. Published ${files.length} example release(s):`);
    for (const f of files) {
      const result = await publishRelease(relative('publications', f), backend, { replace: true });
      lines.push(
        `   ${result.slug} (${result.action}, ${result.state}; PDF ${result.pdf.stored ? 'stored' : `skipped: ${result.pdf.reason}`})`,
      );
    }

    const issues = (await readdir(path.join(examples, 'newsletters')))
      .filter((f) => f.endsWith('.md'))
      .sort();
    const issueDeps = { ...backend, renderer: createNewsletterRenderer(backend.templates) };
    for (const f of issues) {
      const result = await publishIssue(relative('newsletters', f), issueDeps, { replace: true });
      lines.push(`   newsletter ${result.id} (${result.action}, ${result.state})`);
    }

    const csv = relative('contacts', 'journalistes.csv');
    const report = await importContacts(createReadStream(csv), csv, backend, {
      list: 'presse',
      source: 'import:journalistes.csv',
      now: new Date(),
    });
    lines.push(
      '',
      `2. Imported ${csv} into the list "presse": ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.rejected.length} rejected, ${report.suppressed} suppressed`,
    );

    const campaign = await loadCampaignFile(relative('campaigns', 'etude-2021-presse.yaml'), backend.files);
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
      '',
      `3. Sent the campaign "${campaign.name}" through the ${mailer.name}: ${sent.sent} sent now, ${sent.alreadyDone} already sent before, ${sent.failed} failed, ${sent.skipped} skipped (${sent.state})`,
    );
    if (mailer.name === 'outbox') lines.push(`   outbox: ${backend.store.fileOf(`outbox/${campaign.name}`)}`);
  } finally {
    await backend.close();
  }
  lines.push(
    '',
    `Press room: ${backend.store.fileOf(siteKeys.index)}`,
    `  open it in a browser, or run \`npx pressroom serve\` and visit ${config.siteUrl}`,
    `Campaign status: npx pressroom campaign status etude-2021-presse`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(fail);
