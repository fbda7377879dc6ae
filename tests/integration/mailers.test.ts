import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GetAccountSendingEnabledCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  MessageRejected,
  SESClient,
  SESServiceException,
  SendRawEmailCommand,
  type SendRawEmailCommandInput,
} from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/folder-store.ts';
import { OutboxMailer, outboxKey } from '../../lambdas/adapters/outbox-mailer.ts';
import { checkSes, SesMailer } from '../../lambdas/adapters/ses-mailer.ts';
import { checkSmtp, classifySmtpError, SmtpMailer, smtpServer } from '../../lambdas/adapters/smtp-mailer.ts';
import {
  PermanentSendError,
  SendingHaltedError,
  ThrottledError,
} from '../../lambdas/core/campaigns/mailer.ts';
import {
  headerLines,
  mailerContract,
  parseRaw,
  type Received,
  sampleMessage,
} from '../contract/mailer.contract.ts';

const roots: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function folderStore(): Promise<FolderObjectStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'pressroom-mailers-'));
  roots.push(root);
  return new FolderObjectStore({ root, signingSecret: 's', publicUrl: 'http://localhost:3000' });
}

const messageIdOf = (raw: Uint8Array) =>
  headerLines(raw)
    .find((l) => /^Message-ID:/i.test(l))
    ?.replace(/^Message-ID:\s*/i, '');

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

// ---------------------------------------------------------------- outbox

mailerContract(
  'outbox (folder store)',
  async () => {
    const store = await folderStore();
    const mailer = new OutboxMailer(store);
    return {
      mailer,
      async received(message) {
        const object = await store.get(outboxKey(message.campaign, message.messageId));
        if (!object) throw new Error(`no .eml for ${message.messageId}`);
        return parseRaw(object.body);
      },
    };
  },
  { refuses: false, throttles: false },
);

describe('OutboxMailer', () => {
  it('writes one .eml at outboxKey; a second send of the same Message-ID leaves one file', async () => {
    const store = await folderStore();
    const mailer = new OutboxMailer(store);
    const message = await sampleMessage();
    const key = outboxKey(message.campaign, message.messageId);
    expect(key).toMatch(/^outbox\/contrat-été\/[A-Za-z0-9._@+-]+\.eml$/);

    const first = await mailer.send(message);
    expect(first.providerMessageId).toBe(key);
    expect(Buffer.from((await store.get(key))?.body ?? [])).toEqual(Buffer.from(message.raw));

    // A retried send (same Message-ID, a new Date header for instance) replaces the file.
    const retried = {
      ...message,
      raw: new TextEncoder().encode(`X-Retry: 1\r\n${Buffer.from(message.raw)}`),
    };
    await mailer.send(retried);
    await Promise.all([mailer.send(retried), mailer.send(retried), mailer.send(retried)]);
    const folder = path.dirname(store.fileOf(key));
    expect(await readdir(folder)).toEqual([path.basename(key)]);
    expect(Buffer.from((await store.get(key))?.body ?? [])).toEqual(Buffer.from(retried.raw));
  });

  it('keeps Message-IDs with odd characters inside the campaign folder', async () => {
    expect(outboxKey('c', '<a/../../b\\c d@example.org>')).toBe('outbox/c/a_.._.._b_c_d@example.org.eml');
  });
});

// ---------------------------------------------------------------- SMTP

interface SmtpHarnessServer {
  port: number;
  received: { raw: Uint8Array; mailFrom: string; rcptTo: string[] }[];
  connections: number;
  /** Replies to the next RCPT TO with this code, once. */
  failNextRcpt?: number;
  close(): Promise<void>;
}

async function startSmtpServer(refused: string): Promise<SmtpHarnessServer> {
  const state: SmtpHarnessServer = {
    port: 0,
    received: [],
    connections: 0,
    close: async () => {},
  };
  const reply = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Connections a pooled client keeps open do not hold up afterAll.
    closeTimeout: 500,
    onConnect(_session, callback) {
      state.connections++;
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (address.address === refused) return callback(reply(550, '5.1.1 no such mailbox here'));
      const code = state.failNextRcpt;
      if (code !== undefined) {
        state.failNextRcpt = undefined;
        return callback(reply(code, code === 421 ? '4.7.0 too many messages, closing' : '4.7.1 slow down'));
      }
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.received.push({
          raw: new Uint8Array(Buffer.concat(chunks)),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

async function smtpReceived(server: SmtpHarnessServer, messageId: string): Promise<Received> {
  const found = server.received.find((r) => messageIdOf(r.raw) === messageId);
  if (!found) throw new Error(`the SMTP server got no message ${messageId}`);
  return parseRaw(found.raw, { envelopeTo: found.rcptTo });
}

const refusedBySmtp = 'inconnu@exemple.example.com';

mailerContract(
  'SMTP (smtp-server on 127.0.0.1)',
  async () => {
    const server = await startSmtpServer(refusedBySmtp);
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${server.port}` });
    return {
      mailer,
      received: (message) => smtpReceived(server, message.messageId),
      refusedAddress: refusedBySmtp,
      throttleNext: () => {
        server.failNextRcpt = 451;
      },
      async cleanup() {
        mailer.close();
        await server.close();
      },
    };
  },
  { refuses: true, throttles: true },
);

describe('SmtpMailer', () => {
  let server: SmtpHarnessServer;
  let mailer: SmtpMailer;
  beforeAll(async () => {
    server = await startSmtpServer(refusedBySmtp);
    cleanups.push(() => server.close());
    mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, pool: 2 });
    cleanups.push(async () => mailer.close());
  });

  it('uses the envelope: MAIL FROM the sender, RCPT TO the one recipient, bytes unchanged', async () => {
    const message = await sampleMessage('camille.martin@quotidien-ouest.example.com');
    const result = await mailer.send(message);
    // The relay's reply to the message: what `campaign report` calls delivered for SMTP.
    expect(result.reply).toMatch(/^250 /);
    expect(result.reply).not.toContain('@');
    const got = server.received.find((r) => messageIdOf(r.raw) === message.messageId);
    expect(got?.mailFrom).toBe('presse@villes-internet.example.org');
    expect(got?.rcptTo).toEqual(['camille.martin@quotidien-ouest.example.com']);
    // SMTP puts every line on the wire with CRLF (bare LFs in the composed bytes are the
    // subject of a test in send.test.ts); otherwise the bytes arrive as composed.
    const crlf = (raw: Uint8Array) =>
      Buffer.from(raw).toString('latin1').replace(/\r?\n/g, '\r\n').replace(/\r\n$/, '');
    expect(crlf(got?.raw ?? new Uint8Array())).toBe(crlf(message.raw));
  });

  it('takes 421 (too busy, closing) as throttling, and never loses nor doubles the message', async () => {
    // On a new connection the 421 reaches the campaign, which backs off.
    const fresh = new SmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, pool: 1 });
    cleanups.push(async () => fresh.close());
    server.failNextRcpt = 421;
    const refused = await sampleMessage();
    const error = await errorOf(fresh.send(refused));
    expect(error).toBeInstanceOf(ThrottledError);
    const copies = (id: string) => server.received.filter((r) => messageIdOf(r.raw) === id).length;
    expect(copies(refused.messageId)).toBe(0);
    const next = await sampleMessage();
    await fresh.send(next);
    expect(copies(next.messageId)).toBe(1);

    // On a connection that was used before, the pool may take the 421 as a dropped idle
    // connection and send again on a new one (not a byte of the message had gone): then it
    // arrives once; otherwise the campaign sees throttling.
    server.failNextRcpt = 421;
    const reused = await sampleMessage();
    const outcome = await errorOf(fresh.send(reused));
    if (outcome === undefined) expect(copies(reused.messageId)).toBe(1);
    else {
      expect(outcome).toBeInstanceOf(ThrottledError);
      expect(copies(reused.messageId)).toBe(0);
    }
  });

  it('keeps SMTP connections open between messages (pool), instead of one connection per message', async () => {
    const before = server.connections;
    for (let i = 0; i < 5; i++) await mailer.send(await sampleMessage(`suite.${i}@exemple.example.com`));
    // pool: 2 allows at most two connections; sequential sends need only one.
    expect(server.connections - before).toBeLessThanOrEqual(2);
  });
});

// ---------------------------------------------------------------- SES with aws-sdk-client-mock

const dummyCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const throttling = () =>
  new SESServiceException({
    name: 'Throttling',
    $fault: 'client',
    message: 'Maximum sending rate exceeded.',
    $metadata: { httpStatusCode: 400 },
  });
const rejected = () =>
  new MessageRejected({
    message: 'Illegal address',
    $metadata: { httpStatusCode: 400 },
  });

interface SesMockHarness {
  client: SESClient;
  sesMock: ReturnType<typeof mockClient>;
  inputs: SendRawEmailCommandInput[];
  throttleNext: boolean;
  fail?: () => Error;
}

function mockedSes(refused: string): SesMockHarness {
  const client = new SESClient({ region: 'eu-west-3', credentials: dummyCredentials });
  const sesMock = mockClient(client);
  const h: SesMockHarness = { client, sesMock, inputs: [], throttleNext: false };
  let n = 0;
  sesMock.on(SendRawEmailCommand).callsFake(async (input: SendRawEmailCommandInput) => {
    if (h.throttleNext) {
      h.throttleNext = false;
      throw throttling();
    }
    if (h.fail) throw h.fail();
    if (input.Destinations?.includes(refused)) throw rejected();
    h.inputs.push(input);
    return { MessageId: `0102018f-mock-${++n}-000000`, $metadata: {} };
  });
  return h;
}

const refusedBySes = 'bounce@simulator.example.com';

mailerContract(
  'SES (aws-sdk-client-mock)',
  async () => {
    const ses = mockedSes(refusedBySes);
    const mailer = new SesMailer({ client: ses.client, configurationSet: 'pressroom-events' });
    return {
      mailer,
      async received(message) {
        const input = ses.inputs.find(
          (i) => i.RawMessage?.Data && messageIdOf(i.RawMessage.Data) === message.messageId,
        );
        if (!input?.RawMessage?.Data) throw new Error(`SES got no message ${message.messageId}`);
        return parseRaw(input.RawMessage.Data, { envelopeTo: input.Destinations ?? [] });
      },
      refusedAddress: refusedBySes,
      throttleNext: () => {
        ses.throttleNext = true;
      },
      async cleanup() {
        ses.sesMock.restore();
      },
    };
  },
  { refuses: true, throttles: true },
);

describe('SesMailer (aws-sdk-client-mock)', () => {
  it('calls SendRawEmail with one destination, the source, the raw bytes, the configuration set and a campaign tag', async () => {
    const ses = mockedSes(refusedBySes);
    try {
      const mailer = new SesMailer({ client: ses.client, configurationSet: 'pressroom-events' });
      const message = await sampleMessage('julien@radio-cite.example.org', 'etude-2021-presse');
      const result = await mailer.send(message);
      expect(result.providerMessageId).toMatch(/^0102018f-mock-/);
      const calls = ses.sesMock.commandCalls(SendRawEmailCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]?.args[0].input as SendRawEmailCommandInput;
      expect(input.Destinations).toEqual(['julien@radio-cite.example.org']);
      expect(input.Source).toBe('presse@villes-internet.example.org');
      expect(Buffer.from(input.RawMessage?.Data ?? [])).toEqual(Buffer.from(message.raw));
      expect(input.ConfigurationSetName).toBe('pressroom-events');
      expect(input.Tags).toEqual([{ Name: 'campaign', Value: 'etude-2021-presse' }]);

      // SES tag values allow only ASCII letters, digits, _ and -.
      await mailer.send(await sampleMessage('julien@radio-cite.example.org', 'contrat-été'));
      const second = ses.sesMock.commandCalls(SendRawEmailCommand)[1]?.args[0].input as
        | SendRawEmailCommandInput
        | undefined;
      const tag = second?.Tags?.[0];
      expect(tag?.Name).toBe('campaign');
      expect(tag?.Value).toMatch(/^[A-Za-z0-9_-]+$/);
    } finally {
      ses.sesMock.restore();
    }
  });

  it('leaves out ConfigurationSetName when none is configured', async () => {
    const ses = mockedSes(refusedBySes);
    try {
      await new SesMailer({ client: ses.client }).send(await sampleMessage());
      const input = ses.sesMock.commandCalls(SendRawEmailCommand)[0]?.args[0]
        .input as SendRawEmailCommandInput;
      expect(input).not.toHaveProperty('ConfigurationSetName');
    } finally {
      ses.sesMock.restore();
    }
  });

  it('maps Throttling to ThrottledError, MessageRejected to PermanentSendError, the rest to neither', async () => {
    const ses = mockedSes(refusedBySes);
    try {
      const mailer = new SesMailer({ client: ses.client });
      ses.fail = throttling;
      const throttled = await errorOf(mailer.send(await sampleMessage()));
      expect(throttled).toBeInstanceOf(ThrottledError);
      expect((throttled as Error).message).toContain('Maximum sending rate exceeded.');

      ses.fail = rejected;
      const refused = await errorOf(mailer.send(await sampleMessage()));
      expect(refused).toBeInstanceOf(PermanentSendError);
      expect((refused as PermanentSendError).reason).toBe('rejected');
      expect((refused as Error).message).toContain('Illegal address');

      ses.fail = () =>
        new SESServiceException({
          name: 'ServiceUnavailable',
          $fault: 'server',
          message: 'Service is unavailable',
          $metadata: { httpStatusCode: 503 },
        });
      const transient = await errorOf(mailer.send(await sampleMessage()));
      expect(transient).toBeInstanceOf(Error);
      expect(transient).not.toBeInstanceOf(ThrottledError);
      expect(transient).not.toBeInstanceOf(PermanentSendError);
    } finally {
      ses.sesMock.restore();
    }
  });

  it('takes its rate from GetSendQuota MaxSendRate', async () => {
    const ses = mockedSes(refusedBySes);
    try {
      const mailer = new SesMailer({ client: ses.client });
      ses.sesMock
        .on(GetSendQuotaCommand)
        .resolvesOnce({ MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 12 })
        .resolvesOnce({ MaxSendRate: 0 });
      expect(await mailer.maxRate()).toBe(14);
      expect(await mailer.maxRate()).toBeUndefined();
    } finally {
      ses.sesMock.restore();
    }
  });
});

// ---------------------------------------------------------------- SES over HTTP (aws-ses-v2-local)

type StartSesLocal = (config?: { host?: string; port?: number }) => Promise<Server>;
/** Optional: the emulator is a dev dependency that may be absent. */
const sesLocal: StartSesLocal | undefined = await import('aws-ses-v2-local').then(
  (m) => {
    const exported = m.default as unknown as StartSesLocal | { default: StartSesLocal };
    return typeof exported === 'function' ? exported : exported.default;
  },
  () => undefined,
);

interface SesLocalEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

describe('SES over HTTP (aws-ses-v2-local)', () => {
  if (!sesLocal) {
    // A devDependency: its absence is a broken install, said loudly rather than skipped.
    it('needs aws-ses-v2-local (npm ci installs it)', () => {
      throw new Error('aws-ses-v2-local is not installed: run npm ci');
    });
    return;
  }
  mailerContract(
    'SES (aws-ses-v2-local over HTTP)',
    async () => {
      const server = await (sesLocal as StartSesLocal)({ host: '127.0.0.1', port: 0 });
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = new SESClient({ region: 'eu-west-3', endpoint, credentials: dummyCredentials });
      const mailer = new SesMailer({ client, configurationSet: 'pressroom-events' });
      return {
        mailer,
        // The emulator keeps parsed mails only (no raw headers): the contract checks MIME
        // headers on the composed bytes.
        async received(message) {
          const response = await fetch(`${endpoint}/store`);
          const { emails } = (await response.json()) as { emails: SesLocalEmail[] };
          const found = emails.filter((e) => e.subject === message.subject);
          if (found.length !== 1) throw new Error(`${found.length} mails with subject ${message.subject}`);
          const e = found[0] as SesLocalEmail;
          return {
            subject: e.subject,
            from: e.from,
            to: e.destination.to,
            cc: e.destination.cc,
            bcc: e.destination.bcc,
            text: e.body.text ?? '',
            html: e.body.html ?? '',
          };
        },
        async cleanup() {
          client.destroy();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    },
    { refuses: false, throttles: false },
  );
});

// ---------------------------------------------------------------- outages: stop, name the server and the fix

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** An smtp-server on 127.0.0.1 with these options; its errors (a client hanging up) are expected. */
async function smtpServerWith(options: ConstructorParameters<typeof SMTPServer>[0]) {
  const server = new SMTPServer({ logger: false, closeTimeout: 200, authOptional: true, ...options });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return port;
}

describe('SmtpMailer when the server cannot take anything: SendingHaltedError naming the server and the fix', () => {
  const halted = async (options: ConstructorParameters<typeof SmtpMailer>[0]) => {
    const mailer = new SmtpMailer({ timeoutMs: 2000, ...options });
    cleanups.push(async () => mailer.close());
    const error = await errorOf(mailer.send(await sampleMessage()));
    expect(error).toBeInstanceOf(SendingHaltedError);
    return (error as Error).message;
  };

  it('nothing listening on the port', async () => {
    const port = await closedPort();
    const message = await halted({ host: '127.0.0.1', port });
    expect(message).toContain(`the SMTP server 127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
    expect(message).toContain('PRESSROOM_SMTP_PORT');
  });

  it('the login refused', async () => {
    const port = await smtpServerWith({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    const message = await halted({ host: '127.0.0.1', port, user: 'presse', password: 'faux' });
    expect(message).toContain(`the SMTP server 127.0.0.1:${port} refused the login`);
    expect(message).toContain('PRESSROOM_SMTP_PASSWORD');
    // No login at all, where one is required: 530.
    const anonymous = await halted({ host: '127.0.0.1', port });
    expect(anonymous).toContain('requires a login');
  });

  it('TLS asked of a server that speaks plain SMTP, and STARTTLS required where it is not offered', async () => {
    const port = await smtpServerWith({ disabledCommands: ['STARTTLS'] });
    const tls = await halted({ host: '127.0.0.1', port, secure: true });
    expect(tls).toContain('failed the TLS handshake');
    expect(tls).toContain('PRESSROOM_SMTP_SECURE=starttls');
    const starttls = await halted({ host: '127.0.0.1', port, requireTls: true });
    expect(starttls).toContain('refused STARTTLS');
  });

  it('a certificate that is not trusted', async () => {
    // smtp-server's built-in certificate is self-signed (and expired): refused by default.
    const port = await smtpServerWith({ secure: true });
    const message = await halted({ host: '127.0.0.1', port, secure: true });
    expect(message).toContain('failed the TLS handshake');
    expect(message).toContain('certificate is not trusted');
  });

  it('a server that closes every connection, and one that never greets', async () => {
    const closing = createNetServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => closing.close(() => resolve())));
    const closes = await halted({ host: '127.0.0.1', port: (closing.address() as AddressInfo).port });
    expect(closes).toContain('closes every connection');
    const silent = createNetServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      silent.close();
    });
    const quiet = await halted({
      host: '127.0.0.1',
      port: (silent.address() as AddressInfo).port,
      timeoutMs: 300,
    });
    expect(quiet).toContain('did not answer in time');
  });

  it('names host:port from a URL without its password', () => {
    const error = classifySmtpError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET', originalCode: 'ECONNREFUSED' }),
      smtpServer({ url: 'smtps://presse:secret@smtp.example.org' }),
    );
    expect(error.message).toContain('smtp.example.org:465');
    expect(error.message).not.toContain('secret');
    const dns = classifySmtpError(
      Object.assign(new Error('getaddrinfo ENOTFOUND smtp.exemple.invalid'), {
        code: 'EDNS',
        originalCode: 'ENOTFOUND',
      }),
      'smtp.exemple.invalid:587',
    );
    expect(dns).toBeInstanceOf(SendingHaltedError);
    expect(dns.message).toContain('PRESSROOM_SMTP_HOST');
    const quota = classifySmtpError(
      Object.assign(new Error('454 Throttling failure: Daily message quota exceeded'), { responseCode: 454 }),
      'email-smtp.eu-west-3.amazonaws.com:587',
    );
    expect(quota).toBeInstanceOf(SendingHaltedError);
  });

  it('with explicit options, STARTTLS and a login, a message goes through', async () => {
    let authed = '';
    const received: string[] = [];
    const port = await smtpServerWith({
      authOptional: false,
      onAuth: (auth, _session, callback) => {
        authed = auth.username ?? '';
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        stream.on('data', (c: Buffer) => received.push(c.toString()));
        stream.on('end', () => callback());
      },
    });
    const mailer = new SmtpMailer({
      host: '127.0.0.1',
      port,
      requireTls: true,
      user: 'presse@villes-internet.example.org',
      password: 'mot de passe',
      tls: { rejectUnauthorized: false },
    });
    cleanups.push(async () => mailer.close());
    const message = await sampleMessage();
    await mailer.send(message);
    expect(authed).toBe('presse@villes-internet.example.org');
    expect(received.join('')).toContain(message.messageId);
    expect(
      await checkSmtp({
        host: '127.0.0.1',
        port,
        requireTls: true,
        user: 'presse',
        password: 'x',
        tls: { rejectUnauthorized: false },
      }),
    ).toEqual({
      server: `127.0.0.1:${port}`,
      tls: expect.stringMatching(/^TLSv1\.[23] \(STARTTLS\)$/),
      login: 'accepted for presse',
    });
  });
});

describe('SesMailer when SES refuses everything: SendingHaltedError naming the identity and the fix', () => {
  const sesError = (name: string, message: string) =>
    new SESServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
  const cases: [string, Error, RegExp][] = [
    [
      'account paused',
      sesError('AccountSendingPausedException', 'Account sending paused'),
      /whole AWS account.*update-account-sending-enabled/,
    ],
    [
      'configuration set paused',
      sesError('ConfigurationSetSendingPausedException', 'paused'),
      /configuration set "pressroom-events".*--enabled/,
    ],
    [
      'configuration set missing',
      sesError(
        'ConfigurationSetDoesNotExistException',
        'Configuration set <pressroom-events> does not exist.',
      ),
      /does not exist.*PRESSROOM_SES_CONFIGURATION_SET/,
    ],
    [
      'MAIL FROM domain',
      sesError('MailFromDomainNotVerifiedException', 'no MX'),
      /MAIL FROM domain of presse@villes-internet\.example\.org/,
    ],
    [
      'sender not verified',
      new MessageRejected({
        message:
          'Email address is not verified. The following identities failed the check in region EU-WEST-3: presse@villes-internet.example.org',
        $metadata: {},
      }),
      /the sender presse@villes-internet\.example\.org is not a verified identity in SES region EU-WEST-3/,
    ],
    [
      'sandbox',
      new MessageRejected({
        message:
          'Email address is not verified. The following identities failed the check in region EU-WEST-3: zoe.lhote@exemple.example.com',
        $metadata: {},
      }),
      /sandbox in region EU-WEST-3.*production access/,
    ],
    [
      'daily quota',
      sesError('Throttling', 'Daily message quota exceeded.'),
      /daily sending quota \(Max24HourSend\) is used up/,
    ],
    [
      'credentials',
      sesError('InvalidClientTokenId', 'The security token included in the request is invalid.'),
      /credentials.*ses:SendRawEmail/,
    ],
  ];
  for (const [what, thrown, expected] of cases) {
    it(what, async () => {
      const ses = mockedSes(refusedBySes);
      try {
        ses.fail = () => thrown;
        const mailer = new SesMailer({ client: ses.client, configurationSet: 'pressroom-events' });
        const error = await errorOf(mailer.send(await sampleMessage()));
        expect(error).toBeInstanceOf(SendingHaltedError);
        expect((error as Error).message).toMatch(expected);
        // Never the recipient's address (it is in SES's own sandbox message).
        expect((error as Error).message).not.toContain('zoe.lhote@exemple.example.com');
      } finally {
        ses.sesMock.restore();
      }
    });
  }
});

describe('checkSes (aws-sdk-client-mock): what decides whether SES takes a campaign, nothing sent', () => {
  const client = () => new SESClient({ region: 'eu-west-3', credentials: dummyCredentials });
  it('reports the region, a verified sender (its domain), production and the quota', async () => {
    const c = client();
    const ses = mockClient(c);
    try {
      ses.on(GetAccountSendingEnabledCommand).resolves({ Enabled: true });
      ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 120 });
      ses.on(GetIdentityVerificationAttributesCommand).resolves({
        VerificationAttributes: { 'villes-internet.example.org': { VerificationStatus: 'Success' } },
      });
      expect(await checkSes({ client: c, from: 'presse@villes-internet.example.org' })).toEqual({
        region: 'eu-west-3',
        identity: { name: 'villes-internet.example.org', status: 'Success' },
        mode: 'production',
        quota: { max24HourSend: 50_000, maxSendRate: 14, sentLast24Hours: 120 },
      });
      expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    } finally {
      ses.restore();
    }
  });

  it('says sandbox, and stops on a sender that is not verified or an account whose sending is disabled', async () => {
    const c = client();
    const ses = mockClient(c);
    try {
      ses.on(GetAccountSendingEnabledCommand).resolves({ Enabled: true });
      ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 });
      ses.on(GetIdentityVerificationAttributesCommand).resolves({
        VerificationAttributes: { 'presse@villes-internet.example.org': { VerificationStatus: 'Pending' } },
      });
      expect((await checkSes({ client: c })).mode).toBe('sandbox');
      const pending = await errorOf(checkSes({ client: c, from: 'presse@villes-internet.example.org' }));
      expect(pending).toBeInstanceOf(SendingHaltedError);
      expect((pending as Error).message).toContain(
        'the sender presse@villes-internet.example.org is not a verified identity in SES region eu-west-3 (presse@villes-internet.example.org: Pending)',
      );
      ses.on(GetAccountSendingEnabledCommand).resolves({ Enabled: false });
      expect((await errorOf(checkSes({ client: c }))) as Error).toBeInstanceOf(SendingHaltedError);
    } finally {
      ses.restore();
    }
  });
});
