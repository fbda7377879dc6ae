import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Handlebars from 'handlebars';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../lambdas/adapters/template-files.ts';
import { loadPublication } from '../lambdas/core/publication/load.ts';
import { createReleaseRenderer, loadMjml } from '../lambdas/core/render/document.ts';
import {
  compileForRecipients,
  type PersonalizableEmail,
  type RecipientFields,
} from '../lambdas/core/render/recipient.ts';
import { firstNames, lastNames, secondLastNames } from './names.ts';
import { type Benchmark, type BenchRow, mean, median, msSince, quantile } from './types.ts';

/**
 * The two rendering stages of ARCHITECTURE.md ("Rendering: once per document, cheap per
 * recipient") on the seed example: MJML cold load, document stage, recipient stage.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleFile = path.join(root, 'examples/publications/2021-06-08-numerique-gestion-de-crise.md');

const mjmlColdRuns = 5;
const renderWarmups = 5;
const renderRuns = 50;
const fillWarmups = 1_000;
const recipientCount = 10_000;
const fillBatch = 100;

const suite = 'render';
const kib = (s: string) => Buffer.byteLength(s, 'utf8') / 1024;

export const renderBenchmark: Benchmark = {
  name: suite,
  description: `two-stage rendering of ${path.relative(root, exampleFile)}`,
  async run(log) {
    const rows: BenchRow[] = [];
    const row = (name: string, value: number, unit: string, target?: BenchRow['target']) =>
      rows.push({ suite, name, value, unit, ...(target && { target }) });

    // 1. MJML module load, cold: a fresh plain-Node process each time (no tsx hooks).
    log(`MJML cold import: ${mjmlColdRuns} fresh processes`);
    const cold: number[] = [];
    for (let i = 0; i < mjmlColdRuns; i++) cold.push(await coldImportMs('mjml'));
    row('MJML import, cold process (median)', median(cold), 'ms');
    row('MJML import, cold process (min)', Math.min(...cold), 'ms');

    // 2. Document stage.
    log('document stage: load templates and publication');
    const templates = await loadTemplateFiles();
    const { publication } = await loadPublication(exampleFile, localSourceFiles);
    const renderer = createReleaseRenderer(templates);
    const renderOptions = { webUrl: `https://press.example.org/${publication.slug}/` };

    // In this process (tsx's loader in the path): what the first render would pay on top.
    let start = process.hrtime.bigint();
    await loadMjml();
    row('MJML import, in bench process (tsx)', msSince(start), 'ms');

    start = process.hrtime.bigint();
    const rendered = await renderer.render(publication, renderOptions);
    row('document render, first (MJML loaded)', msSince(start), 'ms');

    log(`document stage: ${renderWarmups} warm-up + ${renderRuns} timed renders`);
    let sink = 0;
    for (let i = 0; i < renderWarmups; i++)
      sink += (await renderer.render(publication, renderOptions)).email.html.length;
    const renders: number[] = [];
    for (let i = 0; i < renderRuns; i++) {
      start = process.hrtime.bigint();
      const r = await renderer.render(publication, renderOptions);
      renders.push(msSince(start));
      sink += r.email.html.length + r.email.text.length + r.page.length;
    }
    const docTarget = { max: 50, label: '< 50 ms warm' };
    row(`document render, warm mean (n=${renderRuns})`, mean(renders), 'ms', docTarget);
    row(`document render, warm median (n=${renderRuns})`, median(renders), 'ms', docTarget);
    row(`document render, warm min (n=${renderRuns})`, Math.min(...renders), 'ms', docTarget);
    row(`document render, warm p95 (n=${renderRuns})`, quantile(renders, 0.95), 'ms', docTarget);

    row('email HTML size (placeholders in)', kib(rendered.email.html), 'KiB');
    row('email text size (placeholders in)', kib(rendered.email.text), 'KiB');
    row('web page size', kib(rendered.page), 'KiB');

    // 3. Recipient stage.
    const recipients = makeRecipients(recipientCount);
    // Handlebars compiles on a template's first call, not in compile(): time the two together.
    start = process.hrtime.bigint();
    const personal = compileForRecipients(rendered.email);
    sink += personal.fill(recipients[0] as RecipientFields).html.length;
    row('recipient compile + first fill (compiled lazily)', msSince(start), 'ms');

    log(`recipient stage: ${fillWarmups} warm-up + ${recipientCount} timed fills`);
    for (let i = 0; i < fillWarmups; i++) {
      const out = personal.fill(recipients[i % recipients.length] as RecipientFields);
      sink += out.html.length + out.text.length;
    }
    const batches: number[] = [];
    let filledLength = 0;
    const loopStart = process.hrtime.bigint();
    for (let b = 0; b < recipients.length; b += fillBatch) {
      const batchStart = process.hrtime.bigint();
      const end = Math.min(b + fillBatch, recipients.length);
      for (let i = b; i < end; i++) {
        const out = personal.fill(recipients[i] as RecipientFields);
        filledLength += out.html.length + out.text.length;
      }
      batches.push((msSince(batchStart) * 1000) / (end - b));
    }
    const loopMs = msSince(loopStart);
    const fillTarget = { max: 20, label: '< 20 µs' };
    row(
      `recipient fill, mean (n=${recipients.length})`,
      (loopMs * 1000) / recipients.length,
      'µs',
      fillTarget,
    );
    row(`recipient fill, median of ${fillBatch}-recipient batches`, median(batches), 'µs', fillTarget);
    row(`recipient fill, p95 of ${fillBatch}-recipient batches`, quantile(batches, 0.95), 'µs', fillTarget);
    row(`recipient fill, total for ${recipients.length}`, loopMs, 'ms');

    // Outside the timing: every recipient's output really is theirs, and the same as timed.
    const checkedLength = checkFills(personal, recipients);
    if (checkedLength !== filledLength) {
      throw new Error(`fill output changed between runs: ${filledLength} then ${checkedLength} characters`);
    }
    row('filled output, HTML + text, all recipients', filledLength / 1024 / 1024, 'MiB');
    if (sink === 0) throw new Error('nothing rendered');
    return rows;
  },
};

/** Milliseconds that `await import(specifier)` takes in a fresh Node process. */
async function coldImportMs(specifier: string): Promise<number> {
  const code = `const t = process.hrtime.bigint(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    env,
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`cold import of ${specifier} printed ${JSON.stringify(stdout)}`);
  return ms;
}

/** `count` distinct recipients: distinct names, addresses and signed-looking unsubscribe links. */
function makeRecipients(count: number): RecipientFields[] {
  const total = firstNames.length * lastNames.length * secondLastNames.length;
  if (count > total) throw new Error(`only ${total} distinct names for ${count} recipients`);
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[^A-Za-z-]/g, '')
      .toLowerCase();
  return Array.from({ length: count }, (_, i) => {
    const firstName = firstNames[i % firstNames.length] as string;
    const rest = Math.floor(i / firstNames.length);
    const lastName = `${lastNames[rest % lastNames.length]}-${secondLastNames[Math.floor(rest / lastNames.length)]}`;
    const email = `${ascii(firstName)}.${ascii(lastName)}.${i}@example.org`;
    const token = createHash('sha256').update(email).digest('base64url').slice(0, 32);
    return {
      recipient: { email, firstName, lastName },
      unsubscribeUrl: `https://press.example.org/unsubscribe?r=${i}&sig=${token}`,
    };
  });
}

/** Fills every recipient again and checks each one's name, address and link are in; returns the total length. */
function checkFills(personal: PersonalizableEmail, recipients: RecipientFields[]): number {
  const esc = Handlebars.Utils.escapeExpression;
  let length = 0;
  for (const fields of recipients) {
    const { html, text } = personal.fill(fields);
    length += html.length + text.length;
    const r = fields.recipient;
    const firstName = r.firstName ?? '';
    const fullName = `${firstName} ${r.lastName}`;
    const missing = [
      !html.includes(esc(firstName)) && 'first name in HTML',
      !html.includes(esc(fullName)) && 'full name in HTML',
      !html.includes(esc(fields.unsubscribeUrl)) && 'unsubscribe URL in HTML',
      !text.includes(firstName) && 'first name in text',
      !text.includes(fullName) && 'full name in text',
      !text.includes(fields.unsubscribeUrl) && 'unsubscribe URL in text',
      (html.includes('{{') || text.includes('{{')) && 'no placeholder left',
    ].filter(Boolean);
    if (missing.length > 0) throw new Error(`fill for ${r.email} failed: ${missing.join(', ')}`);
  }
  return length;
}
