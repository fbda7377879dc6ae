import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import { z } from 'zod';
import { ChromiumPdfPrinter, defaultChromiumPath } from '../lambdas/adapters/chromium-pdf.ts';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { OutboxMailer } from '../lambdas/adapters/outbox-mailer.ts';
import type { SmtpMailerOptions } from '../lambdas/adapters/smtp-mailer.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../lambdas/adapters/template-files.ts';
import { type PublishDeps, siteDeps } from '../lambdas/core/archive/publish.ts';
import type { Mailer } from '../lambdas/core/campaigns/mailer.ts';
import { isTimeZone, systemTimeZone } from '../lambdas/core/campaigns/time.ts';
import { type ContactKeys, contactKeys } from '../lambdas/core/contacts/model.ts';
import { PressroomError } from '../lambdas/core/errors.ts';
import { languages } from '../lambdas/core/publication/schema.ts';
import { createReleaseRenderer } from '../lambdas/core/render/document.ts';
import type { TemplateSet } from '../lambdas/core/render/templates.ts';
import type { ObjectStore } from '../lambdas/core/store/object-store.ts';

/**
 * The local configuration, read once at start-up from options and environment variables
 * (options win). The README's configuration table lists the same names.
 */
export interface LocalConfig {
  dataDir: string;
  siteUrl: string;
  publicUrl: string;
  siteLang: (typeof languages)[number];
  siteTitle?: string;
  /** The zone every time shown to the user is in (IANA); the machine's by default. */
  timeZone: string;
  templatesDir: string;
  /** Chromium for PDFs: CHROMIUM_PATH, default Debian's /usr/bin/chromium. */
  chromiumPath: string;
  mailer: { kind: 'outbox' } | ({ kind: 'smtp' } & SmtpSettings) | { kind: 'ses'; configurationSet?: string };
  unsubscribeMailbox?: string;
}

/** An SMTP server: nodemailer's URL form, or its parts. */
export type SmtpSettings = Pick<
  SmtpMailerOptions,
  'url' | 'host' | 'port' | 'secure' | 'requireTls' | 'user' | 'password'
>;

export const dataDirOption = new Option('--data-dir <dir>', 'local data folder (the store)')
  .env('PRESSROOM_DATA_DIR')
  .default('./.pressroom');

/** Where the commands work: the local data folder, or a deployed stack (see aws-backend.ts). */
export type BackendKind = 'local' | 'aws';

export const backendOption = new Option(
  '--backend <where>',
  'local: the data folder; aws: the deployed stack (outputs from cdk-outputs.json or CloudFormation)',
)
  .choices(['local', 'aws'])
  .env('PRESSROOM_BACKEND')
  .default('local');

/** The AWS backend, loaded only when asked for: the local mode never loads the AWS SDK clients. */
export async function openAwsBackend(): Promise<import('./aws-backend.ts').AwsBackend> {
  // On Node 20 the SDK warns at every run that its releases after January 2027 need Node 22:
  // the README says so once; AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { awsBackend } = await import('./aws-backend.ts');
  return awsBackend();
}

/** The store of either backend: what the store-agnostic commands (campaign status...) need. */
export async function storeFor(opts: { backend?: BackendKind; dataDir?: string }): Promise<ObjectStore> {
  if (opts.backend === 'aws') return (await openAwsBackend()).store;
  return (await localBackend(loadConfig(opts), { pdf: false })).store;
}

/** The store and the contact keys of either backend (contacts commands). */
export async function storeAndKeys(opts: {
  backend?: BackendKind;
  dataDir?: string;
}): Promise<{ store: ObjectStore; keys: ContactKeys }> {
  if (opts.backend === 'aws') {
    const aws = await openAwsBackend();
    return { store: aws.store, keys: await aws.signingKeys() };
  }
  const local = await localBackend(loadConfig(opts), { pdf: false });
  return { store: local.store, keys: local.keys };
}

/** On the stack: refuses an option that only the local backend has, saying what to do instead. */
export function localOnly(given: boolean, option: string, why: string): void {
  if (given) throw new ConfigurationError(`${option} does not work with --backend aws: ${why}`);
}

const url = (name: string) =>
  z.url({ protocol: /^https?$/, error: `${name} must be an absolute http:// or https:// URL` });

const envSchema = z.object({
  PRESSROOM_SITE_URL: url('PRESSROOM_SITE_URL').default('http://localhost:3000/'),
  PRESSROOM_PUBLIC_URL: url('PRESSROOM_PUBLIC_URL').default('http://localhost:3000'),
  PRESSROOM_SITE_LANG: z.enum(languages, { error: 'PRESSROOM_SITE_LANG must be "fr" or "en"' }).default('fr'),
  PRESSROOM_SITE_TITLE: z.string().min(1).optional(),
  PRESSROOM_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'PRESSROOM_TIME_ZONE must be an IANA time zone such as Europe/Paris')
    .optional(),
  PRESSROOM_TEMPLATES_DIR: z.string().min(1).optional(),
  CHROMIUM_PATH: z.string().min(1).optional(),
  PRESSROOM_SECRET: z.string().min(32, 'PRESSROOM_SECRET must be at least 32 characters').optional(),
  PRESSROOM_MAILER: z
    .enum(['outbox', 'smtp', 'ses'], { error: 'PRESSROOM_MAILER must be outbox, smtp or ses' })
    .default('outbox'),
  PRESSROOM_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'PRESSROOM_SMTP_URL must be smtp://... or smtps://...')
    .optional(),
  PRESSROOM_SMTP_HOST: z.string().min(1).optional(),
  PRESSROOM_SMTP_PORT: z.coerce
    .number({ error: 'PRESSROOM_SMTP_PORT must be a port number such as 587' })
    .int('PRESSROOM_SMTP_PORT must be a port number such as 587')
    .min(1, 'PRESSROOM_SMTP_PORT must be a port number such as 587')
    .max(65535, 'PRESSROOM_SMTP_PORT must be a port number such as 587')
    .optional(),
  PRESSROOM_SMTP_SECURE: z
    .enum(['tls', 'starttls', 'none', 'true', 'false'], {
      error: 'PRESSROOM_SMTP_SECURE must be tls (port 465), starttls (port 587) or none',
    })
    .optional(),
  PRESSROOM_SMTP_USER: z.string().min(1).optional(),
  PRESSROOM_SMTP_PASSWORD: z.string().min(1).optional(),
  PRESSROOM_SES_CONFIGURATION_SET: z.string().min(1).optional(),
  PRESSROOM_UNSUBSCRIBE_MAILTO: z.email('PRESSROOM_UNSUBSCRIBE_MAILTO must be an email address').optional(),
});

/** The value in an error message, except for names that hold secrets or passwords. */
function showConfigValue(name: string, env: NodeJS.ProcessEnv): string {
  if (name === 'PRESSROOM_SECRET' || name === 'PRESSROOM_SMTP_URL' || name === 'PRESSROOM_SMTP_PASSWORD')
    return ' (value not shown: it holds a secret)';
  return ` (value: ${JSON.stringify(env[name])})`;
}

export class ConfigurationError extends PressroomError {
  override name = 'ConfigurationError';
}

/** Reads and checks the configuration; a bad value stops the command with its name. */
export function loadConfig(opts: { dataDir?: string; templates?: string }, env = process.env): LocalConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(
      `bad configuration: ${parsed.error.issues.map((i) => `${i.message}${showConfigValue(String(i.path[0]), env)}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    dataDir: path.resolve(opts.dataDir ?? env.PRESSROOM_DATA_DIR ?? './.pressroom'),
    siteUrl: e.PRESSROOM_SITE_URL.endsWith('/') ? e.PRESSROOM_SITE_URL : `${e.PRESSROOM_SITE_URL}/`,
    publicUrl: e.PRESSROOM_PUBLIC_URL,
    siteLang: e.PRESSROOM_SITE_LANG,
    ...(e.PRESSROOM_SITE_TITLE !== undefined && { siteTitle: e.PRESSROOM_SITE_TITLE }),
    timeZone: e.PRESSROOM_TIME_ZONE ?? systemTimeZone(),
    templatesDir: opts.templates ?? e.PRESSROOM_TEMPLATES_DIR ?? defaultTemplatesDir,
    chromiumPath: e.CHROMIUM_PATH ?? defaultChromiumPath,
    mailer: mailerConfig(e),
    ...(e.PRESSROOM_UNSUBSCRIBE_MAILTO !== undefined && {
      unsubscribeMailbox: e.PRESSROOM_UNSUBSCRIBE_MAILTO,
    }),
  };
}

function mailerConfig(e: z.infer<typeof envSchema>): LocalConfig['mailer'] {
  if (e.PRESSROOM_MAILER === 'smtp') {
    if (e.PRESSROOM_SMTP_URL && e.PRESSROOM_SMTP_HOST)
      throw new ConfigurationError(
        'set PRESSROOM_SMTP_URL or PRESSROOM_SMTP_HOST (and its companions), not both',
      );
    if (e.PRESSROOM_SMTP_URL) return { kind: 'smtp', url: e.PRESSROOM_SMTP_URL };
    if (!e.PRESSROOM_SMTP_HOST)
      throw new ConfigurationError(
        'PRESSROOM_MAILER=smtp needs PRESSROOM_SMTP_HOST (and PRESSROOM_SMTP_PORT, PRESSROOM_SMTP_SECURE, PRESSROOM_SMTP_USER, PRESSROOM_SMTP_PASSWORD), or PRESSROOM_SMTP_URL (smtp://user:pass@host:587)',
      );
    // Encrypted by default: TLS from the first byte on 465, STARTTLS required elsewhere.
    const mode =
      e.PRESSROOM_SMTP_SECURE === 'true'
        ? 'tls'
        : e.PRESSROOM_SMTP_SECURE === 'false'
          ? 'starttls'
          : (e.PRESSROOM_SMTP_SECURE ?? (e.PRESSROOM_SMTP_PORT === 465 ? 'tls' : 'starttls'));
    if (e.PRESSROOM_SMTP_PASSWORD && !e.PRESSROOM_SMTP_USER)
      throw new ConfigurationError('PRESSROOM_SMTP_PASSWORD is set without PRESSROOM_SMTP_USER');
    return {
      kind: 'smtp',
      host: e.PRESSROOM_SMTP_HOST,
      port: e.PRESSROOM_SMTP_PORT ?? (mode === 'tls' ? 465 : 587),
      secure: mode === 'tls',
      requireTls: mode === 'starttls',
      ...(e.PRESSROOM_SMTP_USER !== undefined && { user: e.PRESSROOM_SMTP_USER }),
      ...(e.PRESSROOM_SMTP_PASSWORD !== undefined && { password: e.PRESSROOM_SMTP_PASSWORD }),
    };
  }
  if (e.PRESSROOM_MAILER === 'ses') {
    return {
      kind: 'ses',
      ...(e.PRESSROOM_SES_CONFIGURATION_SET && { configurationSet: e.PRESSROOM_SES_CONFIGURATION_SET }),
    };
  }
  return { kind: 'outbox' };
}

/** The mailer named by the configuration; the outbox writes into the store. */
export async function createMailer(
  config: LocalConfig,
  store: FolderObjectStore,
): Promise<Mailer & { close?(): void }> {
  switch (config.mailer.kind) {
    case 'smtp': {
      const { SmtpMailer } = await import('../lambdas/adapters/smtp-mailer.ts');
      const { kind: _smtp, ...settings } = config.mailer;
      return new SmtpMailer(settings);
    }
    case 'ses': {
      const { SesMailer } = await import('../lambdas/adapters/ses-mailer.ts');
      return new SesMailer(
        config.mailer.configurationSet ? { configurationSet: config.mailer.configurationSet } : {},
      );
    }
    default:
      return new OutboxMailer(store);
  }
}

/**
 * The signing secret: PRESSROOM_SECRET, or one generated on first use and kept in the data
 * folder's private part (never under site/ and never synced as an object).
 */
export async function signingSecret(dataDir: string, env = process.env): Promise<string> {
  if (env.PRESSROOM_SECRET) return env.PRESSROOM_SECRET;
  const file = path.join(dataDir, '.pressroom-store', 'secret');
  await mkdir(path.dirname(file), { recursive: true });
  // Written whole under another name, then linked into place: a process starting at the
  // same time reads either no file or the complete secret, never an empty one.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
  return (await readFile(file, 'utf8')).trim();
}

/** Everything the local commands need, built once: the adapters of the core's ports. */
export interface LocalBackend extends PublishDeps {
  store: FolderObjectStore;
  config: LocalConfig;
  /** Contact ids and token keys, derived from the signing secret. */
  keys: ContactKeys;
  templates: TemplateSet;
  close(): Promise<void>;
}

export async function localBackend(
  config: LocalConfig,
  options: { pdf?: boolean } = {},
): Promise<LocalBackend> {
  const templates = await loadTemplateFiles(config.templatesDir);
  const secret = await signingSecret(config.dataDir);
  const store = new FolderObjectStore({
    root: config.dataDir,
    signingSecret: secret,
    publicUrl: config.publicUrl,
  });
  const printer = options.pdf === false ? undefined : new ChromiumPdfPrinter(config.chromiumPath);
  return {
    config,
    store,
    keys: contactKeys(secret),
    templates,
    files: localSourceFiles,
    renderer: createReleaseRenderer(templates),
    ...siteDeps(templates, config),
    ...(printer && { printer }),
    async close() {
      await printer?.close();
    },
  };
}
