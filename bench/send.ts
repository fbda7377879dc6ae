import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { simpleParser } from 'mailparser';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { MemoryObjectStore } from '../lambdas/adapters/memory-store.ts';
import { OutboxMailer } from '../lambdas/adapters/outbox-mailer.ts';
import { loadTemplateFiles } from '../lambdas/adapters/template-files.ts';
import { createPressRoom } from '../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../lambdas/core/archive/publish.ts';
import { type CampaignDefinition, campaignKeys } from '../lambdas/core/campaigns/campaign.ts';
import { claim, type LedgerEntry, readLedger, record } from '../lambdas/core/campaigns/ledger.ts';
import { type Mailer, type OutgoingMessage, ThrottledError } from '../lambdas/core/campaigns/mailer.ts';
import type { MessageParts } from '../lambdas/core/campaigns/message.ts';
import { composeMessage } from '../lambdas/core/campaigns/message-skeleton.ts';
import {
  messageFor,
  prepareCampaign,
  type SendDeps,
  type SendOptions,
  type SendReport,
  sendCampaign,
} from '../lambdas/core/campaigns/send.ts';
import { resolveAudience } from '../lambdas/core/contacts/audience.ts';
import { importContacts } from '../lambdas/core/contacts/import.ts';
import { type Contact, contactKeys } from '../lambdas/core/contacts/model.ts';
import { signUnsubscribeToken } from '../lambdas/core/contacts/tokens.ts';
import { loadPublication } from '../lambdas/core/publication/load.ts';
import { createReleaseRenderer } from '../lambdas/core/render/document.ts';
import {
  compileForRecipients,
  type EmailSegments,
  type RecipientFields,
} from '../lambdas/core/render/recipient.ts';
import { listAll } from '../lambdas/core/store/object-store.ts';
import { compiled } from '../scripts/build.ts';
import { firstNames, lastNames } from './names.ts';
import { type Benchmark, type BenchRow, msSince } from './types.ts';

/**
 * Sending (ISSUE 5, "Tests and benchmarks"): messages prepared per second (claim + fill +
 * MIME) with a no-op mailer for 10,000 recipients (target ≥ 5,000/s on one core), an
 * end-to-end outbox send of 10,000, and the rate achieved against a provider limited to
 * 100/s with 50 ms latency (target ≥ 95% of the limit, never above).
 *
 * Setup, once, in a temporary folder store: the seed example published through the real
 * publishRelease (no PDF printer), then 10,000 synthetic contacts (accented French names,
 * distinct addresses) imported into the list "presse" through the real importContacts from
 * an in-memory `;` CSV (fast enough: well under a second, so shards are not written by
 * hand); 1,500 of them carry the tag "rate-sample", the audience of the rate test. Campaign
 * definitions are objects (no YAML), each run under a fresh name since the ledger makes a
 * second run of a campaign a no-op.
 *
 * 1. Per-message costs, sequential, 1,000 iterations each on a campaign of its own: ledger
 *    claim (putIfAbsent), unsubscribe token, fill, compose (campaign skeleton), ledger
 *    record (putIfVersion), messageFor (token + fill + compose) and one outbox write. These
 *    also warm up the code paths before the runs below.
 * 1b. The naive anchor: the release's MJML rendered for each of 200 recipients, then
 *    filled and composed by a MailComposer run of its own, as a rate (messages prepared per
 *    second, extrapolated from the sample), beside messageFor on 1,000 (target ≥ 100×).
 * 2. sendCampaign with a no-op mailer (idempotent, resolves at once) at rate 1e9: concurrency
 *    1, 8 and 32 on the 1,500-recipient sample (three full runs would take minutes at
 *    today's speed), then all 10,000 at the best of the three. Per run: wall time of the
 *    whole call (audience of 10,000 resolved, ledger read, campaign record included), the
 *    send loop alone (first to last progress event), and process CPU time per message (main
 *    thread + libuv pool: above 100% busy means more than one core worked).
 * 3. sendCampaign to 10,000 with the OutboxMailer at an unlimited rate and the default
 *    concurrency: wall time, messages/s, outbox size; checks 10,000 .eml files and parses one.
 * 4. sendCampaign to 1,500 at rate 100 with the default concurrency, against a mailer that
 *    takes 50 ms a call and throws ThrottledError when a call would make more than 100
 *    accepted in the last second (a sliding window, as a provider sees it). Reports the
 *    rate achieved (sent / whole elapsed time, and over the send span), the most calls
 *    started in any 1-second window (must stay ≤ 100) and the throttled calls.
 * 5. The outbox at scale (issue 19): 50,000 recipients of their own list, and 5,000 of them
 *    (a tag), each sent with default options (no rate: the outbox has no limit) by
 *    bench/outbox-send.ts, compiled as the command is, in a process of its own (Node alone,
 *    without the sources' TypeScript loader), whose peak RSS is the send's. The anchor,
 *    in the same run on the same disk: the same .eml bytes written again as new files, one
 *    fsync each, one after the other (target: ours ≥ 50% of that rate; peak RSS ≤ 250 MB
 *    and flat). PRESSROOM_BENCH_SEND_SCALE=N runs N and N/10 instead, for a quick look.
 * Figures are information; the benchmark fails only when an output check fails (someone
 * not sent, sent twice, a wrong .eml count). PRESSROOM_BENCH_KEEP=1 keeps the store.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleFile = path.join(root, 'examples/publications/2021-06-08-numerique-gestion-de-crise.md');

const suite = 'send';
const secret = 'bench-secret-send-0123456789-abcdefghijklmnop';
const publicUrl = 'https://press.example.org';
const list = 'presse';
const recipientCount = 10_000;
const rateSampleTag = 'rate-sample';
const rateSampleCount = 1_500;
const providerLimit = 100;
const providerLatencyMs = 50;
const concurrencies = [1, 8, 32];
const microIterations = 1_000;
const crossCheckIterations = 200;
/** Recipients of the naive anchor (MJML per recipient, tens of ms each): its rate is extrapolated. */
const naiveSample = 200;
/** The outbox at scale (PRESSROOM_BENCH_SEND_SCALE changes it, for a quick run): the 50,000 and a tenth. */
const scaleCount = Number(process.env.PRESSROOM_BENCH_SEND_SCALE ?? 50_000);
const scaleSmall = Math.round(scaleCount / 10);
const scaleList = 'presse-grande';
const scaleSmallTag = 'scale-tenth';

const n = (count: number) => count.toLocaleString('en');

export const sendBenchmark: Benchmark = {
  name: suite,
  description: `send to ${n(recipientCount)}: prepared/s with a no-op mailer, outbox end to end, rate against a ${providerLimit}/s provider`,
  async run(log = () => {}) {
    const rows: BenchRow[] = [];
    const row = (name: string, value: number, unit: string, target?: BenchRow['target']) =>
      rows.push({ suite, name, value, unit, ...(target && { target }) });
    const benchStart = process.hrtime.bigint();
    const temp = await mkdtemp(path.join(os.tmpdir(), 'pressroom-bench-send-'));
    try {
      // Setup.
      const store = new FolderObjectStore({
        root: path.join(temp, 'data'),
        signingSecret: secret,
        publicUrl: 'http://localhost:3000',
      });
      const keys = contactKeys(secret);
      log('setup: publishing the seed example (no PDF printer)');
      const templates = await loadTemplateFiles();
      let start = process.hrtime.bigint();
      const published = await publishRelease(exampleFile, {
        store,
        files: localSourceFiles,
        renderer: createReleaseRenderer(templates),
        pressRoom: createPressRoom(templates, { siteUrl: `${publicUrl}/`, lang: 'fr' }),
        sampleRecipient: templates.sampleRecipient,
        siteUrl: `${publicUrl}/`,
      });
      row('setup: publish the seed example (MJML load included)', msSince(start), 'ms');

      log(`setup: importing ${n(recipientCount)} synthetic contacts`);
      const csv = contactsCsv(recipientCount);
      start = process.hrtime.bigint();
      const imported = await importContacts(
        (async function* () {
          yield Buffer.from(csv, 'utf8');
        })(),
        'bench-contacts.csv',
        { store, keys },
        { list, source: 'import:bench-contacts.csv', now: new Date() },
      );
      row(`setup: import ${n(recipientCount)} contacts (not a send figure)`, msSince(start), 'ms');
      if (imported.added !== recipientCount || imported.rejected.length > 0) {
        throw new Error(
          `import: ${imported.added} added, ${imported.rejected.length} rejected of ${recipientCount}`,
        );
      }

      log(`setup: importing ${n(scaleCount)} more contacts into the list "${scaleList}"`);
      start = process.hrtime.bigint();
      const scaled = await importContacts(
        (async function* () {
          yield Buffer.from(
            contactsCsv(scaleCount, { prefix: 'scale', sample: scaleSmallTag, sampleCount: scaleSmall }),
            'utf8',
          );
        })(),
        'bench-scale.csv',
        { store, keys },
        { list: scaleList, source: 'import:bench-scale.csv', now: new Date() },
      );
      row(`setup: import ${n(scaleCount)} contacts (not a send figure)`, msSince(start), 'ms');
      if (scaled.added !== scaleCount)
        throw new Error(`scale import: ${scaled.added} added of ${scaleCount}`);

      const definition = (name: string, tags?: string[]): CampaignDefinition => ({
        name,
        publication: published.slug,
        audience: { list, ...(tags && { tags }), tagsMode: 'any' },
        from: { name: 'Villes Internet — Presse', address: 'presse@villes-internet.example.org' },
        replyTo: 'florence.poznanski@villes-internet.example.org',
        subject: 'Communiqué : gestion de crise avec le numérique, les villes moyennes résilientes',
        attachPdf: false,
      });
      const depsWith = (mailer: Mailer): SendDeps => ({ store, mailer, keys, publicUrl });

      // 1. Per-message costs, one at a time.
      log(`per-message costs: ${n(microIterations)} iterations of each step`);
      const micro = definition('bench-micro');
      const prepared = await prepareCampaign(micro, depsWith(new NoopMailer()));
      const contacts: Contact[] = [];
      for await (const c of resolveAudience(store, micro.audience)) {
        contacts.push(c);
        if (contacts.length === microIterations) break;
      }
      if (contacts.length !== microIterations) throw new Error(`only ${contacts.length} contacts resolved`);
      const now = new Date();
      const entries: LedgerEntry[] = contacts.map((c) => ({
        contact: c.id,
        email: c.email,
        name: [c.firstName, c.lastName].filter(Boolean).join(' '),
        status: 'claimed',
        messageId: `<${micro.name}.${c.id}@${prepared.domain}>`,
        attempts: 1,
        claimedAt: now.toISOString(),
      }));
      const versions: string[] = [];
      const tokens: string[] = [];
      const filled: EmailSegments[] = [];
      const raws: Uint8Array[] = [];
      const mailbox = micro.replyTo ?? micro.from.address;
      const partsFor = (i: number): MessageParts => {
        const c = contacts[i] as Contact;
        const f = filled[i] as EmailSegments;
        const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
        return {
          from: micro.from,
          to: { ...(name && { name }), address: c.email },
          ...(micro.replyTo && { replyTo: micro.replyTo }),
          subject: prepared.subject,
          html: f.html,
          text: f.text,
          messageId: (entries[i] as LedgerEntry).messageId,
          date: now,
          unsubscribe: {
            url: `${publicUrl}/unsubscribe/${tokens[i]}`,
            mailto: `mailto:${mailbox}?subject=unsubscribe%20${tokens[i]}`,
          },
          listId: prepared.listId,
        };
      };
      const steps: [string, (i: number) => unknown][] = [
        [
          'ledger claim (putIfAbsent)',
          async (i) => {
            const version = await claim(store, micro.name, entries[i] as LedgerEntry);
            if (!version) throw new Error('claim refused on a fresh campaign');
            versions[i] = version;
          },
        ],
        [
          'unsubscribe token (HMAC)',
          (i) => {
            tokens[i] = signUnsubscribeToken(keys, {
              contact: (contacts[i] as Contact).id,
              list,
              campaign: micro.name,
            });
          },
        ],
        [
          'fill (recipient stage, in segments)',
          (i) => {
            const c = contacts[i] as Contact;
            filled[i] = prepared.email.fillSegments(fieldsOf(c, tokens[i] as string));
          },
        ],
        [
          'compose (the campaign skeleton + personal parts)',
          (i) => {
            raws[i] = prepared.compose(partsFor(i));
          },
        ],
        [
          'ledger record (putIfVersion)',
          async (i) => {
            const entry = entries[i] as LedgerEntry;
            const sent = {
              ...entry,
              status: 'sent' as const,
              sentAt: now.toISOString(),
              providerMessageId: 'x',
            };
            await record(store, micro.name, sent, versions[i] as string);
          },
        ],
      ];
      let perMessage = 0;
      for (const [label, op] of steps) {
        const us = await microsecondsEach(microIterations, op);
        perMessage += us;
        row(`step: ${label}, mean of ${n(microIterations)}`, us, 'µs');
      }
      row('steps summed: claim + token + fill + compose + record', perMessage, 'µs', {
        max: 200,
        label: '≤ 200 µs (5,000/s)',
      });
      const messageForUs = await microsecondsEach(crossCheckIterations, (i) =>
        messageFor(prepared, contacts[i] as Contact, depsWith(new NoopMailer()), now),
      );
      row(
        `cross-check: messageFor (token + fill + compose), mean of ${crossCheckIterations}`,
        messageForUs,
        'µs',
      );
      const outbox = new OutboxMailer(store);
      const outboxUs = await microsecondsEach(microIterations, (i) =>
        outbox.send({
          raw: raws[i] as Uint8Array,
          messageId: (entries[i] as LedgerEntry).messageId,
          from: micro.from.address,
          to: (contacts[i] as Contact).email,
          campaign: micro.name,
        }),
      );
      row('step: outbox write (one .eml, put)', outboxUs, 'µs');
      row('message size (no attachment), mean', mean(raws.map((r) => r.byteLength)) / 1024, 'KiB');

      // 1b. Anchor: the naive way, MJML rendered once per recipient (then filled and composed
      // by a MailComposer run of its own), on a sample; against messageFor, the two-stage way
      // (token, fill, compose on the campaign's skeleton), on all 1,000.
      log(`naive anchor: MJML rendered for each of ${n(naiveSample)} recipients`);
      {
        const { publication } = await loadPublication(exampleFile, localSourceFiles);
        const webUrl = `${publicUrl}/${publication.slug}/`;
        const renderer = createReleaseRenderer(templates);
        start = process.hrtime.bigint();
        for (let i = 0; i < naiveSample; i++) {
          const rendered = await renderer.render(publication, { webUrl });
          const f = compileForRecipients(rendered.email).fill(
            fieldsOf(contacts[i] as Contact, tokens[i] as string),
          );
          await composeMessage({ ...partsFor(i), html: f.html, text: f.text });
        }
        const naivePerSecond = (naiveSample / msSince(start)) * 1000;
        start = process.hrtime.bigint();
        const ours = depsWith(new NoopMailer());
        for (const c of contacts) await messageFor(prepared, c, ours, now);
        const oursPerSecond = (contacts.length / msSince(start)) * 1000;
        rows.push({
          suite,
          name: `prepared per second: messageFor on ${n(contacts.length)} (anchor: MJML per recipient, ${n(naiveSample)} sampled, as a rate)`,
          value: oursPerSecond,
          unit: 'msg/s',
          anchor: { name: 'naive MJML loop', value: naivePerSecond },
        });
        row('time per message ÷ the naive loop’s', naivePerSecond / oursPerSecond, '×', {
          max: 0.01,
          label: '≤ 0.01 (≥ 100× faster)',
        });
      }

      // 2. Prepared per second, no-op mailer: the concurrency sweep on the 1,500-recipient
      // sample (at today's speed three full runs of 10,000 would not fit the time budget),
      // then the full 10,000 at the sweep's best concurrency.
      const noopRun = async (concurrency: number, full: boolean) => {
        const count = full ? recipientCount : rateSampleCount;
        const mailer = new NoopMailer();
        const name = `bench-noop-c${concurrency}-${full ? 'full' : 'sample'}`;
        const tags = full ? undefined : [rateSampleTag];
        const run = await timedSend(definition(name, tags), depsWith(mailer), { rate: 1e9, concurrency });
        await checkRun(store, run.report, name, count);
        if (mailer.ids.size !== count || mailer.calls !== count) {
          throw new Error(`${name}: ${mailer.calls} sends, ${mailer.ids.size} distinct Message-IDs`);
        }
        return { ...run, perSecond: (count / run.report.elapsedMs) * 1000 };
      };
      const sweep: { concurrency: number; loopPerSecond: number }[] = [];
      for (const concurrency of concurrencies) {
        log(`no-op mailer: ${n(rateSampleCount)} recipients at concurrency ${concurrency}`);
        const run = await noopRun(concurrency, false);
        sweep.push({ concurrency, loopPerSecond: run.loopPerSecond });
        const label = `no-op ${n(rateSampleCount)}, concurrency ${concurrency}`;
        row(`${label}: send loop (first to last message)`, run.loopPerSecond, 'msg/s');
        row(`${label}: whole sendCampaign`, run.perSecond, 'msg/s');
        row(`${label}: process CPU per message`, run.cpuUsPerMessage, 'µs');
        row(`${label}: CPU busy (100% = one core)`, run.cpuPercent, '%');
      }
      const best = sweep.reduce((a, b) => (b.loopPerSecond > a.loopPerSecond ? b : a));
      log(
        `no-op mailer: ${n(recipientCount)} recipients at concurrency ${best.concurrency} (the sweep's best)`,
      );
      {
        const run = await noopRun(best.concurrency, true);
        const label = `no-op ${n(recipientCount)}, concurrency ${best.concurrency} (best)`;
        row(`${label}: prepared per second (whole sendCampaign)`, run.perSecond, 'msg/s');
        row(`${label}: wall time per message`, 1e6 / run.perSecond, 'µs', {
          max: 200,
          label: '≤ 200 µs (≥ 5,000/s)',
        });
        row(`${label}: send loop only`, run.loopPerSecond, 'msg/s');
        row(`${label}: fixed cost (audience, ledger read, record)`, run.fixedMs, 'ms');
        row(`${label}: process CPU per message`, run.cpuUsPerMessage, 'µs');
        row(`${label}: CPU busy (100% = one core)`, run.cpuPercent, '%');
      }

      // 2b. The same with the store in memory: pressroom's own work per message (claim,
      // token, fill, compose, record) without the file system's. On this machine's disk a
      // file creation costs about a millisecond, and the folder store makes three per
      // recipient (claim, outcome, lock): that, not the pipeline, bounds the folder figures.
      {
        const memory = new MemoryObjectStore({ signingSecret: 'bench', publicUrl });
        for await (const item of listAll(store, '')) {
          const object = await store.get(item.key);
          if (object) await memory.put(item.key, object.body);
        }
        for (const concurrency of [1, 8]) {
          const name = `bench-memory-c${concurrency}`;
          log(`no-op mailer, memory store: ${n(recipientCount)} recipients at concurrency ${concurrency}`);
          const mailer = new NoopMailer();
          const run = await timedSend(
            definition(name),
            { store: memory, mailer, keys, publicUrl },
            {
              rate: 1e9,
              concurrency,
            },
          );
          const ledger = await readLedger(memory, name);
          const sent = [...ledger.values()].filter((r) => r.entry.status === 'sent').length;
          if (
            run.report.sent !== recipientCount ||
            sent !== recipientCount ||
            mailer.ids.size !== recipientCount
          )
            throw new Error(
              `${name}: ${run.report.sent} sent, ${sent} in the ledger, ${mailer.ids.size} ids`,
            );
          const perSecond = (recipientCount / run.report.elapsedMs) * 1000;
          const label = `no-op ${n(recipientCount)}, memory store, concurrency ${concurrency}`;
          row(`${label}: prepared per second (whole sendCampaign)`, perSecond, 'msg/s');
          row(`${label}: send loop only`, run.loopPerSecond, 'msg/s');
          row(`${label}: time per message (send loop)`, 1e6 / run.loopPerSecond, 'µs', {
            max: 200,
            label: '≤ 200 µs (≥ 5,000/s on one core)',
          });
          row(`${label}: process CPU per message`, run.cpuUsPerMessage, 'µs');
        }
      }

      // 3. End to end through the outbox.
      log(`outbox: ${n(recipientCount)} recipients, unlimited rate, default concurrency`);
      {
        const name = 'bench-outbox';
        const run = await timedSend(definition(name), depsWith(new OutboxMailer(store)), {
          rate: Number.POSITIVE_INFINITY,
        });
        await checkRun(store, run.report, name, recipientCount);
        const dir = store.fileOf(`outbox/${name}`);
        const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
        if (files.length !== recipientCount) {
          throw new Error(`outbox: ${files.length} .eml files for ${recipientCount} recipients`);
        }
        let bytes = 0;
        for (const f of files) bytes += (await stat(path.join(dir, f))).size;
        await checkEml(path.join(dir, files[Math.floor(files.length / 2)] as string));
        row('outbox: wall time', run.report.elapsedMs / 1000, 's');
        row(
          'outbox: messages per second (whole sendCampaign)',
          (recipientCount / run.report.elapsedMs) * 1000,
          'msg/s',
        );
        row('outbox: send loop only', run.loopPerSecond, 'msg/s');
        row('outbox: process CPU per message', run.cpuUsPerMessage, 'µs');
        row('outbox: CPU busy (100% = one core)', run.cpuPercent, '%');
        row('outbox: .eml files', files.length, 'files');
        row('outbox: total size', bytes / 2 ** 20, 'MiB');
      }

      // 4. Rate against a limited provider.
      log(
        `rate: ${n(rateSampleCount)} recipients at rate ${providerLimit} against a ${providerLimit}/s, ${providerLatencyMs} ms mailer (~${Math.round(rateSampleCount / providerLimit)} s)`,
      );
      {
        const name = 'bench-rate';
        const mailer = new LimitedMailer(providerLimit, providerLatencyMs);
        const run = await timedSend(definition(name, [rateSampleTag]), depsWith(mailer), {
          rate: providerLimit,
        });
        await checkRun(store, run.report, name, rateSampleCount);
        if (mailer.accepted.length !== rateSampleCount || mailer.acceptedIds.size !== rateSampleCount) {
          throw new Error(
            `rate: the mailer accepted ${mailer.accepted.length} sends to ${mailer.acceptedIds.size} recipients of ${rateSampleCount}`,
          );
        }
        const achieved = (run.report.sent / run.report.elapsedMs) * 1000;
        const first = mailer.accepted[0] as number;
        const last = mailer.accepted.at(-1) as number;
        const span = ((mailer.accepted.length - 1) / (last - first)) * 1000;
        const maxCalls = maxInWindow(mailer.calls, 1000);
        row('rate: elapsed (whole sendCampaign)', run.report.elapsedMs / 1000, 's');
        row('rate: achieved (sent / elapsed)', achieved, 'msg/s');
        row(`rate: achieved, % of the ${providerLimit}/s limit`, (achieved / providerLimit) * 100, '%');
        row('rate: shortfall below the limit', 100 - (achieved / providerLimit) * 100, '%', {
          max: 5,
          label: '≤ 5% (≥ 95% of the limit)',
        });
        row('rate: over the send span (first to last accepted)', span, 'msg/s');
        row('rate: most calls started in any 1-s window', maxCalls, 'calls', {
          max: providerLimit + 1,
          label: `≤ ${providerLimit} (never above)`,
        });
        row('rate: most accepted in any 1-s window', maxInWindow(mailer.accepted, 1000), 'sends');
        row('rate: throttled calls (ThrottledError)', mailer.throttled, 'calls', {
          max: 1,
          label: '0 expected at the limit',
        });
        row('rate: concurrency (default for the rate)', Math.min(64, Math.ceil(providerLimit * 0.2) + 1), '');
        if (maxCalls > providerLimit) {
          log(`rate: ${maxCalls} calls started within one second, above the limit of ${providerLimit}`);
        }
      }

      // 5. The outbox at scale, as `pressroom send` runs it (default options), each send in a
      // process of its own (its peak RSS is the send's), against the raw rate of the disk.
      for (const count of [scaleSmall, scaleCount]) {
        log(
          `outbox at scale: ${n(count)} recipients, default options, in a child process; then the same bytes written raw`,
        );
        const name = `bench-scale-${count}`;
        const scale: CampaignDefinition = {
          ...definition(name),
          audience: {
            list: scaleList,
            ...(count === scaleSmall && { tags: [scaleSmallTag] }),
            tagsMode: 'any',
          },
        };
        const child = await outboxSendInChild(store.root, scale);
        await checkRun(store, child.report, name, count);
        const raw = await rawWrites(store.fileOf(`outbox/${name}`), path.join(temp, `raw-${count}`), count);
        const perSecond = (count / child.report.elapsedMs) * 1000;
        const label = `outbox ${n(count)}, default options`;
        row(`${label}: wall time (whole sendCampaign)`, child.report.elapsedMs / 1000, 's');
        rows.push({
          suite,
          name: `${label}: messages per second`,
          value: perSecond,
          unit: 'msg/s',
          anchor: { name: 'raw writes, same bytes, one fsync each', value: raw.perSecond },
        });
        row(`${label}: raw rate ÷ ours (time per message, relative)`, raw.perSecond / perSecond, '×', {
          max: 2,
          label: '≤ 2 (≥ 50% of the raw rate)',
        });
        row(`${label}: peak RSS of the send process`, child.peakRss / 2 ** 20, 'MiB', {
          max: 250,
          label: '≤ 250 MB, flat in the audience',
        });
        row(`${label}: RSS before the send (modules loaded)`, child.rssBefore / 2 ** 20, 'MiB');
        await rm(store.fileOf(`outbox/${name}`), { recursive: true, force: true });
      }

      row('load average (1 min) at the end', os.loadavg()[0] ?? 0, '');
      log(`send benchmark took ${(msSince(benchStart) / 1000).toFixed(1)} s`);
      return rows;
    } finally {
      if (process.env.PRESSROOM_BENCH_KEEP) log(`kept the store in ${temp} (PRESSROOM_BENCH_KEEP)`);
      else await rm(temp, { recursive: true, force: true });
    }
  },
};

/** What a recipient's message is filled with. */
function fieldsOf(c: Contact, token: string): RecipientFields {
  return {
    recipient: {
      email: c.email,
      ...(c.firstName && { firstName: c.firstName }),
      ...(c.lastName && { lastName: c.lastName }),
    },
    unsubscribeUrl: `${publicUrl}/unsubscribe/${token}`,
  };
}

/** Resolves at once; counts calls and distinct Message-IDs. */
class NoopMailer implements Mailer {
  readonly name = 'noop';
  readonly idempotent = true;
  calls = 0;
  readonly ids = new Set<string>();
  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    this.calls++;
    this.ids.add(message.messageId);
    return { providerMessageId: `noop-${this.calls}` };
  }
}

/**
 * A provider with a limit: a call that would make more than `limit` accepted calls in the
 * last second is refused with ThrottledError (a sliding window); accepted calls take
 * `latencyMs`. Records when every call started, and when accepted ones did.
 */
class LimitedMailer implements Mailer {
  readonly name = 'limited';
  readonly idempotent = false;
  readonly calls: number[] = [];
  readonly accepted: number[] = [];
  readonly acceptedIds = new Set<string>();
  throttled = 0;
  private windowStart = 0;
  constructor(
    private readonly limit: number,
    private readonly latencyMs: number,
  ) {}
  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const now = performance.now();
    this.calls.push(now);
    while (
      this.windowStart < this.accepted.length &&
      (this.accepted[this.windowStart] as number) <= now - 1000
    )
      this.windowStart++;
    if (this.accepted.length - this.windowStart >= this.limit) {
      this.throttled++;
      throw new ThrottledError('Maximum sending rate exceeded.');
    }
    this.accepted.push(now);
    if (this.acceptedIds.has(message.messageId)) throw new Error(`${message.messageId} delivered twice`);
    this.acceptedIds.add(message.messageId);
    await new Promise((r) => setTimeout(r, this.latencyMs));
    return { providerMessageId: `limited-${this.accepted.length}-${message.to}` };
  }
}

interface TimedRun {
  report: SendReport;
  /** Messages per second between the first and the last progress event. */
  loopPerSecond: number;
  /** Elapsed time outside the send loop (audience, ledger read, campaign record). */
  fixedMs: number;
  cpuUsPerMessage: number;
  cpuPercent: number;
}

async function timedSend(
  definition: CampaignDefinition,
  deps: SendDeps,
  options: SendOptions,
): Promise<TimedRun> {
  let first = 0;
  let last = 0;
  let events = 0;
  const cpu = process.cpuUsage();
  const report = await sendCampaign(definition, deps, {
    ...options,
    onProgress: () => {
      last = performance.now();
      if (events++ === 0) first = last;
    },
  });
  const used = process.cpuUsage(cpu);
  const cpuUs = used.user + used.system;
  const loopMs = last - first;
  return {
    report,
    loopPerSecond: events > 1 ? ((events - 1) / loopMs) * 1000 : Number.NaN,
    fixedMs: report.elapsedMs - loopMs,
    cpuUsPerMessage: cpuUs / Math.max(1, report.sent),
    cpuPercent: (cpuUs / 1000 / report.elapsedMs) * 100,
  };
}

/** The run sent to everyone once: report, campaign state and one ledger entry per recipient. */
async function checkRun(store: FolderObjectStore, report: SendReport, name: string, expected: number) {
  const problems = [
    report.audience !== expected && `audience ${report.audience}`,
    report.sent !== expected && `sent ${report.sent}`,
    report.failed !== 0 && `failed ${report.failed}`,
    report.skipped !== 0 && `skipped ${report.skipped}`,
    report.alreadyDone !== 0 && `already done ${report.alreadyDone}`,
    report.state !== 'sent' && `state ${report.state}`,
  ].filter(Boolean);
  const dir = store.fileOf(campaignKeys.ledgerPrefix(name).replace(/\/$/, ''));
  const ledger = await readdir(dir);
  // Read 64 at a time: 50,000 at once would run out of file handles.
  let sentEntries = 0;
  for (let i = 0; i < ledger.length; i += 64) {
    const texts = await Promise.all(ledger.slice(i, i + 64).map((f) => readFile(path.join(dir, f), 'utf8')));
    sentEntries += texts.filter((t) => t.includes('"status":"sent"')).length;
  }
  if (ledger.length !== expected) problems.push(`${ledger.length} ledger entries`);
  if (sentEntries !== expected) problems.push(`${sentEntries} ledger entries marked sent`);
  if (problems.length > 0) throw new Error(`${name}: expected ${expected} sent; got ${problems.join(', ')}`);
}

/** One .eml parsed back: one recipient, both parts, the unsubscribe headers. */
async function checkEml(file: string): Promise<void> {
  const mail = await simpleParser(await readFile(file));
  const header = (pattern: RegExp) => mail.headerLines.some((h) => pattern.test(h.line));
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  const problems = [
    (to.length !== 1 || to[0]?.value.length !== 1) && 'not exactly one To recipient',
    mail.cc && 'a Cc header',
    !mail.html && 'no HTML part',
    !mail.text && 'no text part',
    !mail.subject?.includes('numérique') && `subject ${JSON.stringify(mail.subject)}`,
    !header(/^List-Unsubscribe: <https:\/\/[^>]+>, <mailto:[^>]+>$/i) && 'no List-Unsubscribe',
    !header(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/i) && 'no List-Unsubscribe-Post',
    !header(/^List-Id: <presse\./i) && 'no List-Id',
    !mail.messageId && 'no Message-ID',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${path.basename(file)}: ${problems.join(', ')}`);
}

/** Mean microseconds of `op(i)` for i in 0..count-1, run one after the other. */
async function microsecondsEach(count: number, op: (i: number) => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const result = op(i);
    if (result instanceof Promise) await result;
  }
  return (msSince(start) * 1000) / count;
}

/** The most timestamps (ms) that fall in any window [t, t + width). */
function maxInWindow(times: readonly number[], width: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] as number) - (sorted[from] as number) >= width) from++;
    best = Math.max(best, to - from + 1);
  }
  return best;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

const outlets = [
  'Quotidien de l’Ouest',
  'Radio Cité',
  'La Gazette des Territoires',
  'Le Journal du Numérique',
  'Ouest Matin',
];

/**
 * `count` contacts as a `;` CSV with French headers: distinct addresses, accented names, a
 * tag shared by all and the rate test's tag on the first `rateSampleCount`.
 */
function contactsCsv(
  count: number,
  options: { prefix?: string; sample?: string; sampleCount?: number } = {},
): string {
  const { prefix = '', sample = rateSampleTag, sampleCount = rateSampleCount } = options;
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[^A-Za-z-]/g, '')
      .toLowerCase();
  const lines = ['Prénom;Nom;Courriel;Média;Tags'];
  for (let i = 0; i < count; i++) {
    const first = firstNames[i % firstNames.length] as string;
    const last = lastNames[Math.floor(i / firstNames.length) % lastNames.length] as string;
    const tags = i < sampleCount ? `numérique, ${sample}` : 'numérique';
    const email = `${prefix}${ascii(first)}.${ascii(last)}.${i}@media-${i % 40}.example.org`;
    lines.push(`${first};${last};${email};${outlets[i % outlets.length]};"${tags}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** bench/outbox-send.ts compiled once per bench run, under node_modules/.cache so that its imports find the project's packages. */
let outboxSendScript: Promise<string> | undefined;
function compiledOutboxSend(): Promise<string> {
  const script = fileURLToPath(
    new URL('../node_modules/.cache/pressroom-bench/outbox-send.mjs', import.meta.url),
  );
  outboxSendScript ??= build({
    ...compiled,
    entryPoints: [fileURLToPath(new URL('outbox-send.ts', import.meta.url))],
    outfile: script,
    logLevel: 'warning',
  }).then(() => script);
  return outboxSendScript;
}

/**
 * Runs bench/outbox-send.ts in a new process and reads its JSON. The script is compiled first
 * as the \`pressroom\` command is (scripts/build.ts: plain JavaScript, packages from node_modules)
 * and run by Node alone: the TypeScript loader of the sources (tsx, a thread of its own) would
 * add some 35 MiB to the process that \`pressroom send\` does not have.
 */
async function outboxSendInChild(
  root: string,
  definition: CampaignDefinition,
): Promise<{ report: SendReport; rssBefore: number; peakRss: number }> {
  const script = await compiledOutboxSend();
  const child = spawn(process.execPath, [script, root, secret, publicUrl, JSON.stringify(definition)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`bench/outbox-send.ts exited with ${code}`);
  return JSON.parse(out);
}

/**
 * The anchor: the .eml files of `from` written again into `to`, each as a new file with one
 * fsync, one after the other, on the same disk. Only the writes are timed (each file is read
 * first, from the page cache); the copies are removed afterwards.
 */
async function rawWrites(from: string, to: string, expected: number): Promise<{ perSecond: number }> {
  const files = (await readdir(from)).filter((f) => f.endsWith('.eml'));
  if (files.length !== expected) throw new Error(`${from}: ${files.length} .eml files for ${expected}`);
  await mkdir(to, { recursive: true });
  let ns = 0n;
  for (const f of files) {
    const bytes = await readFile(path.join(from, f));
    const start = process.hrtime.bigint();
    const handle = await open(path.join(to, f), 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    ns += process.hrtime.bigint() - start;
  }
  await rm(to, { recursive: true, force: true });
  return { perSecond: files.length / (Number(ns) / 1e9) };
}
