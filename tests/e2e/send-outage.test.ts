import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspace, expectExit, runPressroom } from '../support/cli.ts';

/**
 * `pressroom send` through SMTP, for real: links that would not work are refused before
 * anything leaves; an SMTP server that cannot be reached stops the send at once (exit 3,
 * the server and the fix named, nobody counted as failed, the campaign paused with the
 * reason), and sending again once it is up resumes.
 */
const recipients = 30;
let work: string;
let dataDir: string;
let closedPort: number;

const baseEnv = () => ({
  ...process.env,
  PRESSROOM_DATA_DIR: dataDir,
  PRESSROOM_SECRET: 'outage-test-secret-0123456789abcdef-0123',
  PRESSROOM_SITE_URL: 'https://press.example.org/',
  PRESSROOM_PUBLIC_URL: 'https://press.example.org',
  CHROMIUM_PATH: '/nonexistent',
});
const smtpEnv = (port: number) => ({
  ...baseEnv(),
  PRESSROOM_MAILER: 'smtp',
  PRESSROOM_SMTP_HOST: '127.0.0.1',
  PRESSROOM_SMTP_PORT: String(port),
  // A relay on this machine: no TLS (the test server has no trusted certificate).
  PRESSROOM_SMTP_SECURE: 'none',
});
const run = (env: NodeJS.ProcessEnv, ...args: string[]) => runPressroom(args, { cwd: work, env });
const campaign = 'examples/campaigns/etude-2021-presse.yaml';
const ledgerSize = () =>
  readdir(path.join(dataDir, 'campaigns', 'etude-2021-presse', 'ledger')).then(
    (names) => names.length,
    () => 0,
  );

beforeAll(async () => {
  work = await exampleWorkspace('pressroom-outage-');
  dataDir = path.join(work, 'data');
  await writeFile(
    path.join(work, 'presse.csv'),
    [
      'Prénom;Nom;Courriel',
      ...Array.from({ length: recipients }, (_, i) => `Zoé;Lefèvre-${i};zoe.${i}@redaction.example.org`),
    ].join('\r\n'),
  );
  expectExit(
    await run(
      baseEnv(),
      'publish',
      'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
      '--no-pdf',
    ),
    0,
  );
  expectExit(await run(baseEnv(), 'contacts', 'import', 'presse.csv', '--list', 'presse'), 0);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pressroom send through SMTP', () => {
  it('refuses, before anything leaves, a public URL on localhost or not https, naming the variable', async () => {
    const local = await run(
      { ...smtpEnv(closedPort), PRESSROOM_PUBLIC_URL: 'http://localhost:3000' },
      'send',
      campaign,
    );
    expectExit(local, 1);
    expect(local.stderr).toContain('nothing was sent');
    expect(local.stderr).toContain(
      'PRESSROOM_PUBLIC_URL is http://localhost:3000 (localhost is a local name: recipients cannot open it): set it to your public address, e.g. PRESSROOM_PUBLIC_URL=https://presse.example.org',
    );
    const plain = await run(
      { ...smtpEnv(closedPort), PRESSROOM_SITE_URL: 'http://press.example.org/' },
      'send',
      campaign,
    );
    expectExit(plain, 1);
    expect(plain.stderr).toContain('PRESSROOM_SITE_URL is http://press.example.org/ (it is not https)');
    const privateNet = await run(
      { ...smtpEnv(closedPort), PRESSROOM_PUBLIC_URL: 'https://192.168.1.20' },
      'send',
      campaign,
    );
    expectExit(privateNet, 1);
    expect(privateNet.stderr).toContain('192.168.1.20 is a private address (RFC 1918)');
    expect(await ledgerSize()).toBe(0);
    // The outbox and a test message to oneself stay allowed.
    const outbox = await run(
      { ...baseEnv(), PRESSROOM_PUBLIC_URL: 'http://localhost:3000' },
      'send',
      campaign,
      '--dry-run',
    );
    expectExit(outbox, 0);
  });

  it('stops at once when the server cannot be reached: exit 3, nobody failed, paused with the reason; sending again resumes', async () => {
    const down = await run(smtpEnv(closedPort), 'send', campaign, '--json');
    expectExit(down, 3);
    expect(down.stderr).toContain(`the SMTP server 127.0.0.1:${closedPort} cannot be reached (ECONNREFUSED)`);
    expect(down.stderr).toContain('PRESSROOM_SMTP_PORT');
    const report = JSON.parse(down.stdout);
    expect(report).toMatchObject({ state: 'paused', failed: 0, sent: 0 });

    const status = await run(baseEnv(), 'campaign', 'status', 'etude-2021-presse');
    expectExit(status, 0);
    expect(status.stdout).toContain('etude-2021-presse');
    expect(status.stdout).toMatch(/: paused/);
    expect(status.stdout).toContain(`paused: the SMTP server 127.0.0.1:${closedPort} cannot be reached`);
    expect(status.stdout).toMatch(/failed\s+0/);

    // The server is up: sending again resumes and reaches everyone once.
    const received: string[] = [];
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      closeTimeout: 200,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(...session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.server.address() as AddressInfo).port;
      const up = await run(smtpEnv(port), 'send', campaign, '--json', '--rate', '200');
      expectExit(up, 0);
      expect(JSON.parse(up.stdout)).toMatchObject({ state: 'sent', sent: recipients, failed: 0 });
      expect(received.toSorted()).toEqual(
        Array.from({ length: recipients }, (_, i) => `zoe.${i}@redaction.example.org`).toSorted(),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);

  it('`pressroom mailer check`: the outbox says where it writes; SMTP connects and logs in without sending, or says why not (exit 3)', async () => {
    const outbox = await run(baseEnv(), 'mailer', 'check');
    expectExit(outbox, 0);
    expect(outbox.stdout).toContain(`written as .eml files under ${dataDir}/outbox/<campaign>/`);

    const received: string[] = [];
    const server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      closeTimeout: 200,
      onAuth: (auth, _session, callback) =>
        auth.password === 'bon-mot-de-passe'
          ? callback(null, { user: auth.username })
          : callback(new Error('Invalid username or password')),
      onData(stream, _session, callback) {
        received.push('a message');
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.server.address() as AddressInfo).port;
      const login = { PRESSROOM_SMTP_USER: 'presse@villes-internet.example.org' };
      const ok = await run(
        { ...smtpEnv(port), ...login, PRESSROOM_SMTP_PASSWORD: 'bon-mot-de-passe' },
        'mailer',
        'check',
      );
      expectExit(ok, 0);
      expect(ok.stdout).toContain(`SMTP server 127.0.0.1:${port}: ready (nothing was sent)`);
      expect(ok.stdout).toContain('encryption  none: messages cross the network in clear');
      expect(ok.stdout).toContain('login       accepted for presse@villes-internet.example.org');
      const json = await run(
        { ...smtpEnv(port), ...login, PRESSROOM_SMTP_PASSWORD: 'bon-mot-de-passe' },
        'mailer',
        'check',
        '--json',
      );
      expect(JSON.parse(json.stdout)).toMatchObject({ mailer: 'smtp', ready: true, tls: 'none' });
      const wrong = await run(
        { ...smtpEnv(port), ...login, PRESSROOM_SMTP_PASSWORD: 'faux' },
        'mailer',
        'check',
      );
      expectExit(wrong, 3);
      expect(wrong.stderr).toContain(`the SMTP server 127.0.0.1:${port} refused the login`);
      expect(wrong.stderr).toContain('PRESSROOM_SMTP_PASSWORD');
      expect(wrong.stderr).not.toContain('faux');
      // STARTTLS required (the default) where the server offers none.
      const { PRESSROOM_SMTP_SECURE: _none, ...encrypted } = smtpEnv(port);
      const clear = await run(encrypted, 'mailer', 'check');
      expectExit(clear, 3);
      expect(clear.stderr).toContain('refused STARTTLS');
      expect(received).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const down = await run(smtpEnv(closedPort), 'mailer', 'check');
    expectExit(down, 3);
    expect(down.stderr).toContain(`the SMTP server 127.0.0.1:${closedPort} cannot be reached (ECONNREFUSED)`);
  }, 60_000);

  it('names a damaged campaign file and how to repair it, instead of a stack', async () => {
    const file = path.join(dataDir, 'campaigns', 'etude-2021-presse', 'campaign.json');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.slice(0, 40));
    try {
      const status = await run(baseEnv(), 'campaign', 'status', 'etude-2021-presse');
      expectExit(status, 1);
      expect(status.stderr).toContain(`the store's file ${file} is damaged and cannot be read`);
      expect(status.stderr).toContain('or delete it: the next `pressroom send` starts the record again');
      expect(status.stderr).not.toMatch(/internal error|SyntaxError|at .*\.ts:/);
      const send = await run(baseEnv(), 'send', campaign);
      expectExit(send, 1);
      expect(send.stderr).toContain(file);
    } finally {
      await writeFile(file, good);
    }
  });
});
