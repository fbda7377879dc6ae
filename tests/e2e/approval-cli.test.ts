/**
 * Approval proofs through the command: `pressroom proof` prints a signed link, `pressroom
 * serve` shows the proof page (subject, sender, the email at both widths, its text part),
 * `send` refuses a campaign with `approval: required` until `campaign approve --by`, editing
 * the campaign file voids the approval with a message naming who approved what and what
 * changed, and `--test-to` with two addresses writes two outbox messages. The tests of this
 * file share one workspace and run in order.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { outboxEnv, requestLink, type Server, startServer, stopServer } from '../support/serve.ts';

const secret = 'e2e-approval-secret-0123456789abcdef0123';
const publicUrl = 'https://press.example.org';
const seedFile = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const campaignFile = 'approval.yaml';
const name = 'etude-2021-approbation';
const subject = 'Communiqué : gestion de crise avec le numérique, les villes moyennes résilientes';

let work: string;
let data: string;
let server: Server | undefined;
let proofUrl = '';

const pressroom = (...args: string[]): Promise<Run> =>
  runPressroom(args, { cwd: work, env: outboxEnv({ data, secret, publicUrl }) });

/** The campaign file, with `subject` as given. */
const campaign = (title = subject) =>
  [
    `name: ${name}`,
    'publication: gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
    'audience:',
    '  list: presse',
    'from: "Villes Internet <presse@villes-internet.example.org>"',
    `subject: "${title}"`,
    'approval: required',
    '',
  ].join('\n');

const outbox = async () =>
  (await readdir(path.join(data, 'outbox', name)).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.eml'),
  );

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-approval-');
  data = path.join(work, 'data');
  await writeFile(path.join(work, campaignFile), campaign());
  expectExit(await pressroom('publish', seedFile, '--no-pdf'), 0);
  expectExit(
    await pressroom('contacts', 'import', 'examples/contacts/journalistes.csv', '--list', 'presse'),
    0,
  );
  server = await startServer([], { cwd: work, env: outboxEnv({ data, secret, publicUrl }) });
});

afterAll(async () => {
  await stopServer(server, 'SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('approval proofs through the command', () => {
  it('refuses to send a campaign that needs an approval and has none', async () => {
    const run = await pressroom('send', campaignFile);
    expectExit(run, 1);
    expect(run.stderr).toContain(`campaign "${name}" needs an approval (approval: required) and has none`);
    expect(run.stderr).toContain(`pressroom campaign approve ${name} --by "Name"`);
    expect(await outbox()).toEqual([]);
  });

  it('sends a [TEST] message to each of two addresses, before any approval', async () => {
    const run = await pressroom(
      'send',
      campaignFile,
      '--test-to',
      'relecture@example.org,direction@example.org',
    );
    expectExit(run, 0);
    expect(run.stdout).toContain('Sent one [TEST] message to relecture@example.org');
    expect(run.stdout).toContain('Sent one [TEST] message to direction@example.org');
    const files = await outbox();
    expect(files).toHaveLength(2);
    const recipients = await Promise.all(
      files.map(
        async (f) => /^To: (.*)$/m.exec(await readFile(path.join(data, 'outbox', name, f), 'utf8'))?.[1],
      ),
    );
    expect(recipients.sort()).toEqual(['direction@example.org', 'relecture@example.org']);
  });

  it('prints a signed link to the proof, on the public address', async () => {
    const run = await pressroom('proof', campaignFile, '--valid', '3d');
    expectExit(run, 0);
    const url = /https:\/\/press\.example\.org\/proof\/p1\.[\w.-]+/.exec(run.stdout)?.[0];
    expect(url, run.stdout).toBeDefined();
    proofUrl = url ?? '';
    expect(run.stdout).toContain(`"${subject}" from Villes Internet <presse@villes-internet.example.org>`);
    expect(run.stdout).toContain('Prénom Nom <prenom.nom@example.org>');
  });

  it('serves the proof page: subject, sender, the email at both widths, its text part', async () => {
    const page = await requestLink(server, proofUrl, publicUrl, { raw: true });
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    expect(page.headers['x-robots-tag']).toContain('noindex');
    expect(page.body).toContain(`<h1>${subject}</h1>`);
    expect(page.body).toContain('Villes Internet &lt;presse@villes-internet.example.org&gt;');
    expect(page.body).toContain('id="email-desktop"');
    expect(page.body).toContain('id="email-phone"');
    const text = /<pre id="email-text">([\s\S]*?)<\/pre>/.exec(page.body)?.[1] ?? '';
    expect(text).toContain('97 contributions');
    const email = await requestLink(server, `${proofUrl}/email`, publicUrl, { raw: true });
    expect(email.status).toBe(200);
    // Filled for the made-up recipient: no contact of the list shows.
    expect(email.body).toContain('Prénom');
    const contacts = await readFile(path.join(work, 'examples/contacts/journalistes.csv'), 'utf8');
    for (const address of contacts.match(/[\w.-]+@[\w.-]+/g) ?? []) expect(email.body).not.toContain(address);
    expect(page.body).not.toContain('camille.martin@quotidien-ouest');
    const pageOfRelease = await requestLink(server, `${proofUrl}/page`, publicUrl, { raw: true });
    expect(pageOfRelease.status).toBe(200);
    const forged = await requestLink(server, `${proofUrl.slice(0, -3)}abc`, publicUrl, { raw: true });
    expect(forged.status).toBe(400);
    // The server's log names no token.
    expect(server?.stdout()).toContain('GET /proof/[token] 200');
    expect(server?.stdout()).not.toContain(proofUrl.slice(publicUrl.length));
  });

  it('sends once approved; editing the campaign file voids the approval, saying who approved what and what changed', async () => {
    const approve = await pressroom('campaign', 'approve', name, '--by', 'Florence Poznanski');
    expectExit(approve, 0);
    expect(approve.stdout).toContain(`Approved ${name} by Florence Poznanski`);

    await writeFile(path.join(work, campaignFile), campaign('Un autre objet'));
    const refused = await pressroom('send', campaignFile);
    expectExit(refused, 1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `campaign "${name}" was approved by Florence Poznanski on .* \\(version [0-9a-f]{12}, "${subject}"\\), but it changed since: the subject`,
      ),
    );
    expect(await outbox()).toHaveLength(2);

    await writeFile(path.join(work, campaignFile), campaign());
    const sent = await pressroom('send', campaignFile);
    expectExit(sent, 0);
    expect(sent.stdout).toMatch(new RegExp(`${name}: sent`));
    expect((await outbox()).length).toBeGreaterThan(2);
    const status = await pressroom('campaign', 'status', name);
    expectExit(status, 0);
    expect(status.stdout).toMatch(
      /\n {2}approval {4}approved by Florence Poznanski, .* \(version [0-9a-f]{12}\); required to send\n/,
    );
  });

  it('publishing the release again with other content voids the approval too', async () => {
    const file = path.join(work, seedFile);
    const source = await readFile(file, 'utf8');
    await writeFile(file, source.replace('Avec 97 contributions', 'Avec 98 contributions'));
    expectExit(await pressroom('publish', seedFile, '--no-pdf'), 0);
    const refused = await pressroom('send', campaignFile);
    expectExit(refused, 1);
    expect(refused.stderr).toContain(
      'but it changed since: the email (HTML), the email (text part), the web page. The approval no longer holds',
    );
  });
});
