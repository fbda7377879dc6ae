import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { OutboxMailer } from '../lambdas/adapters/outbox-mailer.ts';
import type { CampaignDefinition } from '../lambdas/core/campaigns/campaign.ts';
import { sendCampaign } from '../lambdas/core/campaigns/send.ts';
import { contactKeys } from '../lambdas/core/contacts/model.ts';
import { peakRssKb } from './memory.ts';

/**
 * One outbox send in a process of its own, for bench/send.ts: `outbox-send.ts <store root>
 * <signing secret> <public URL> <campaign definition as JSON>`. Default options, as
 * `pressroom send` runs it (no --rate: the outbox's own limit, none). Prints the report,
 * the RSS before the send and the process's peak RSS (sampled every 20 ms, and its own
 * high-water mark: memory.ts), as JSON on stdout.
 */
const [root, secret, publicUrl, json] = process.argv.slice(2) as [string, string, string, string];
const store = new FolderObjectStore({ root, signingSecret: secret, publicUrl: 'http://localhost:3000' });
const definition = JSON.parse(json) as CampaignDefinition;
const rssBefore = process.memoryUsage().rss;
let sampled = rssBefore;
const sampler = setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage().rss);
}, 20);
const report = await sendCampaign(definition, {
  store,
  mailer: new OutboxMailer(store),
  keys: contactKeys(secret),
  publicUrl,
});
clearInterval(sampler);
const peakRss = Math.max(sampled, peakRssKb() * 1024);
process.stdout.write(JSON.stringify({ report, rssBefore, peakRss, sampled }));
