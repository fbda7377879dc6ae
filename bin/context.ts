import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import type { SmtpMailerOptions } from '../lambdas/adapters/smtp-mailer.ts';
import { defaultTemplatesDir } from '../lambdas/adapters/template-files.ts';
import { loadWorkspace, workspaceOrganization } from '../lambdas/adapters/workspace-file.ts';
import { workspaceFileName } from '../lambdas/adapters/workspace-root.ts';
import type { PdfPrinter, PublishDeps } from '../lambdas/core/archive/publish.ts';
import { sender } from '../lambdas/core/campaigns/campaign.ts';
import type { CampaignDefaults } from '../lambdas/core/campaigns/campaign-file.ts';
import type { Ledger } from '../lambdas/core/campaigns/ledger.ts';
import type { Mailer } from '../lambdas/core/campaigns/mailer.ts';
import { defaultLateFireWindowMinutes, isTimeZone, systemTimeZone } from '../lambdas/core/campaigns/time.ts';
import { type ContactKeys, contactKeys } from '../lambdas/core/contacts/model.ts';
import {
  parseSubscribableLists,
  type SubscribableLists,
} from '../lambdas/core/contacts/subscription-lists.ts';
import { InvalidInputError, PressroomError } from '../lambdas/core/errors.ts';
import { parseByteSize, publicationLimits } from '../lambdas/core/limits.ts';
import { languages } from '../lambdas/core/publication/schema.ts';
import type { TemplateSet } from '../lambdas/core/render/templates.ts';
import type { FrenchArticle } from '../lambdas/core/render/typography.ts';
import type { ObjectStore } from '../lambdas/core/store/object-store.ts';
import {
  type MailerSettings,
  openLists,
  type Sender,
  type WorkspaceList,
} from '../lambdas/core/workspace/settings.ts';
import type { BackendKind } from './options.ts';
import { announceStore, shortPath } from './output.ts';

/**
 * The local configuration, read once at start-up: command-line options, then environment
 * variables, then the workspace's pressroom.yaml, then defaults (docs/configuration.md lists
 * every name).
 */
export interface LocalConfig {
  /**
   * The store folder; undefined outside a workspace when neither --data-dir nor
   * PRESSROOM_DATA_DIR names one (localBackend then refuses: "no workspace here").
   */
  dataDir?: string;
  /** What chose the store, for the line that shows it. */
  dataDirFrom?: '--data-dir' | 'PRESSROOM_DATA_DIR' | 'workspace';
  /** The workspace the command runs in (pressroom.yaml in the current folder or above). */
  workspace?: { root: string; file: string; name?: string; organizations: string[] };
  siteUrl: string;
  publicUrl: string;
  siteLang: (typeof languages)[number];
  siteTitle?: string;
  /** The workspace's organisation: names the press room when no title is set ("Salle de presse de …"). */
  siteOrganization?: { name: string; article?: FrenchArticle };
  /** The zone every time shown to the user is in (IANA); the machine's by default. */
  timeZone: string;
  /** A due campaign started more than this many minutes after its sendAt is paused (serve, run-due). */
  lateFireWindowMinutes: number;
  templatesDir: string;
  /** Chromium for PDFs: CHROMIUM_PATH; unset, one is found (lambdas/adapters/browser.ts). */
  chromiumPath?: string;
  /** The mailer; SMTP settings are checked when the mailer is built (reading commands need none). */
  mailer: { kind: 'outbox' } | ({ kind: 'smtp' } & SmtpSettings) | { kind: 'ses'; configurationSet?: string };
  unsubscribeMailbox?: string;
  /** The default sender of campaigns and confirmations. */
  sender?: Sender;
  /** The default reply address of campaigns and confirmations. */
  replyTo?: string;
  /** The lists pressroom.yaml declares. */
  lists: Record<string, WorkspaceList>;
  /** `pressroom serve` is behind a reverse proxy whose X-Forwarded-* headers it believes. */
  trustProxy: boolean;
  /** The largest file a publication may bring, in bytes (PRESSROOM_MAX_FILE_SIZE). */
  maxFileSize: number;
  /** The web admin's token (PRESSROOM_ADMIN_TOKEN); unset, `serve` makes one per run. */
  adminToken?: string;
}

/** An SMTP server: nodemailer's URL form, or its parts. */
export type SmtpSettings = Pick<
  SmtpMailerOptions,
  'url' | 'host' | 'port' | 'secure' | 'requireTls' | 'user' | 'password'
>;

/** The AWS backend, loaded only when asked for: the local mode never loads the AWS SDK clients. */
export async function openAwsBackend(): Promise<import('./aws-backend.ts').AwsBackend> {
  // On Node 20 the SDK warns at every run that its releases after January 2027 need Node 22:
  // the README says so once; AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { awsBackend } = await import('./aws-backend.ts');
  const aws = await awsBackend();
  announceStore(`s3://${aws.outputs.DataBucketName}`, `the stack's, outputs from ${aws.outputsFrom}`);
  return aws;
}

/** The store of either backend: what the store-agnostic commands (campaign status...) need. */
export async function storeFor(
  opts: { backend?: BackendKind; dataDir?: string },
  config?: LocalConfig,
): Promise<ObjectStore> {
  if (opts.backend === 'aws') return (await openAwsBackend()).store;
  return (await localStore(config ?? loadConfig(opts))).store;
}

/**
 * The store and the delivery ledger of either backend: on the stack, its ledger table
 * (undefined: the core keeps the ledger in the store, as locally).
 */
export async function storeAndLedger(
  opts: { backend?: BackendKind; dataDir?: string },
  config?: LocalConfig,
): Promise<{ store: ObjectStore; ledger?: Ledger | undefined }> {
  if (opts.backend === 'aws') {
    const aws = await openAwsBackend();
    return { store: aws.store, ledger: aws.ledger };
  }
  return { store: await storeFor(opts, config) };
}

/** The store, the contact keys and the ledger of either backend (contacts commands). */
export async function storeAndKeys(opts: {
  backend?: BackendKind;
  dataDir?: string;
}): Promise<{ store: ObjectStore; keys: ContactKeys; ledger?: Ledger | undefined }> {
  if (opts.backend === 'aws') {
    const aws = await openAwsBackend();
    return { store: aws.store, keys: await aws.signingKeys(), ledger: aws.ledger };
  }
  return localStore(loadConfig(opts));
}

/** On the stack: refuses an option that only the local backend has, saying what to do instead. */
export function localOnly(given: boolean, option: string, why: string): void {
  if (given) throw new ConfigurationError(`${option} does not work with --backend aws: ${why}`);
}

const url = (name: string) =>
  z.url({ protocol: /^https?$/, error: `${name} must be an absolute http:// or https:// URL` });

const maxFileSizeMessage = 'PRESSROOM_MAX_FILE_SIZE must be a size such as 50MB, 500kB or a number of bytes';

// No defaults here: an unset variable leaves the value to pressroom.yaml, then to the default.
const envSchema = z.object({
  PRESSROOM_SITE_URL: url('PRESSROOM_SITE_URL').optional(),
  PRESSROOM_PUBLIC_URL: url('PRESSROOM_PUBLIC_URL').optional(),
  PRESSROOM_SITE_LANG: z.enum(languages, { error: 'PRESSROOM_SITE_LANG must be "fr" or "en"' }).optional(),
  PRESSROOM_SITE_TITLE: z.string().min(1).optional(),
  PRESSROOM_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'PRESSROOM_TIME_ZONE must be an IANA time zone such as Europe/Paris')
    .optional(),
  PRESSROOM_TEMPLATES_DIR: z.string().min(1).optional(),
  CHROMIUM_PATH: z.string().min(1).optional(),
  PRESSROOM_SECRET: z.string().min(32, 'PRESSROOM_SECRET must be at least 32 characters').optional(),
  PRESSROOM_ADMIN_TOKEN: z
    .string()
    .min(32, 'PRESSROOM_ADMIN_TOKEN must be at least 32 characters, e.g. from `openssl rand -base64 32`')
    .regex(/^[\x21-\x7e]+$/, 'PRESSROOM_ADMIN_TOKEN must be printable ASCII without spaces')
    .optional(),
  PRESSROOM_MAILER: z
    .enum(['outbox', 'smtp', 'ses'], { error: 'PRESSROOM_MAILER must be outbox, smtp or ses' })
    .optional(),
  PRESSROOM_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'PRESSROOM_SMTP_URL must be smtp://... or smtps://...')
    .optional(),
  PRESSROOM_SMTP_HOST: z.string().min(1).optional(),
  PRESSROOM_SMTP_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'PRESSROOM_SMTP_PORT must be a port number such as 587')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'PRESSROOM_SMTP_PORT must be a port number from 1 to 65535')
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
  // The "Name <address>" form of a sender (a variable holds text, not { name, address }).
  PRESSROOM_SENDER: sender.options[0].optional(),
  PRESSROOM_REPLY_TO: z.email('PRESSROOM_REPLY_TO must be an email address').optional(),
  PRESSROOM_TRUST_PROXY: z
    .enum(['1', '0', 'true', 'false'], { error: 'PRESSROOM_TRUST_PROXY must be 1 or 0 (or true or false)' })
    .optional(),
  PRESSROOM_LATE_FIRE_WINDOW_MINUTES: z
    .string()
    .regex(/^\d{1,5}$/, 'PRESSROOM_LATE_FIRE_WINDOW_MINUTES must be a whole number of minutes such as 60')
    .transform(Number)
    .refine(
      (n) => n >= 1 && n <= 10_080,
      'PRESSROOM_LATE_FIRE_WINDOW_MINUTES must be from 1 to 10080 minutes (a week)',
    )
    .optional(),
  PRESSROOM_MAX_FILE_SIZE: z
    .string()
    .refine((v) => parseByteSize(v) !== undefined, maxFileSizeMessage)
    .transform((v) => parseByteSize(v) ?? publicationLimits.fileSize)
    .optional(),
});

/** The value in an error message, except for names that hold secrets or passwords. */
function showConfigValue(name: string, env: NodeJS.ProcessEnv): string {
  if (
    name === 'PRESSROOM_SECRET' ||
    name === 'PRESSROOM_ADMIN_TOKEN' ||
    name === 'PRESSROOM_SMTP_URL' ||
    name === 'PRESSROOM_SMTP_PASSWORD'
  )
    return ' (value not shown: it holds a secret)';
  return ` (value: ${JSON.stringify(env[name])})`;
}

export class ConfigurationError extends PressroomError {
  override name = 'ConfigurationError';
}

/**
 * Reads and checks the configuration; a bad value stops the command with its name (or its
 * file, line and field in pressroom.yaml). `cwd` is where the workspace is looked for.
 */
export function loadConfig(
  opts: { dataDir?: string; templates?: string },
  env = process.env,
  cwd = process.cwd(),
): LocalConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(
      `bad configuration: ${parsed.error.issues
        .map((i) => {
          const name = String(i.path[0]);
          return `${i.message.startsWith(name) ? '' : `${name} `}${i.message}${showConfigValue(name, env)}`;
        })
        .join('; ')}`,
    );
  }
  const e = parsed.data;
  const workspace = loadWorkspace(cwd);
  const w = workspace?.settings;
  const publicUrl = e.PRESSROOM_PUBLIC_URL ?? w?.publicUrl ?? 'http://localhost:3000';
  const siteUrl = e.PRESSROOM_SITE_URL ?? w?.siteUrl ?? `${publicUrl.replace(/\/+$/, '')}/`;
  const siteTitle = e.PRESSROOM_SITE_TITLE ?? w?.siteTitle;
  const siteOrganization = workspace && workspaceOrganization(workspace);
  const senderOf = e.PRESSROOM_SENDER ?? w?.sender;
  const replyTo = e.PRESSROOM_REPLY_TO ?? w?.replyTo;
  // An empty value names no folder (it would make the current folder the store).
  const given = opts.dataDir || env.PRESSROOM_DATA_DIR || undefined;
  const dataDir =
    given !== undefined
      ? path.resolve(cwd, given)
      : workspace && path.resolve(workspace.root, w?.store ?? '.pressroom');
  return {
    ...(dataDir !== undefined && {
      dataDir,
      dataDirFrom:
        given === undefined
          ? 'workspace'
          : given === env.PRESSROOM_DATA_DIR
            ? 'PRESSROOM_DATA_DIR'
            : '--data-dir',
    }),
    ...(workspace && {
      workspace: {
        root: workspace.root,
        file: workspace.file,
        ...(workspace.settings.name !== undefined && { name: workspace.settings.name }),
        organizations: workspace.settings.organizations,
      },
    }),
    siteUrl: siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`,
    publicUrl,
    siteLang: e.PRESSROOM_SITE_LANG ?? w?.language ?? 'fr',
    ...(siteTitle !== undefined && { siteTitle }),
    ...(siteOrganization !== undefined && { siteOrganization }),
    timeZone: e.PRESSROOM_TIME_ZONE ?? w?.timeZone ?? systemTimeZone(),
    lateFireWindowMinutes:
      e.PRESSROOM_LATE_FIRE_WINDOW_MINUTES ?? w?.lateFireWindowMinutes ?? defaultLateFireWindowMinutes,
    templatesDir: opts.templates ?? e.PRESSROOM_TEMPLATES_DIR ?? defaultTemplatesDir,
    ...(e.CHROMIUM_PATH !== undefined && { chromiumPath: e.CHROMIUM_PATH }),
    mailer: mailerConfig(e, w?.mailer),
    ...(e.PRESSROOM_UNSUBSCRIBE_MAILTO !== undefined && {
      unsubscribeMailbox: e.PRESSROOM_UNSUBSCRIBE_MAILTO,
    }),
    ...(senderOf !== undefined && { sender: senderOf }),
    ...(replyTo !== undefined && { replyTo }),
    lists: w?.lists ?? {},
    trustProxy: e.PRESSROOM_TRUST_PROXY === '1' || e.PRESSROOM_TRUST_PROXY === 'true',
    maxFileSize: e.PRESSROOM_MAX_FILE_SIZE ?? publicationLimits.fileSize,
    ...(e.PRESSROOM_ADMIN_TOKEN !== undefined && { adminToken: e.PRESSROOM_ADMIN_TOKEN }),
  };
}

/**
 * The mailer: PRESSROOM_MAILER, else pressroom.yaml's `mailer`, else the outbox. Each SMTP
 * setting comes from its PRESSROOM_SMTP_* variable, else from the file (when the file names
 * the same kind); the password only ever from PRESSROOM_SMTP_PASSWORD. Encrypted by default:
 * TLS from the first byte on port 465, STARTTLS required elsewhere; plain text only when asked
 * (PRESSROOM_SMTP_SECURE=none, or `starttls: false` in the file).
 */
function mailerConfig(e: z.infer<typeof envSchema>, file: MailerSettings | undefined): LocalConfig['mailer'] {
  const kind = e.PRESSROOM_MAILER ?? file?.kind ?? 'outbox';
  if (kind === 'smtp') {
    const f: Partial<Extract<MailerSettings, { kind: 'smtp' }>> = file?.kind === 'smtp' ? file : {};
    if (e.PRESSROOM_SMTP_URL !== undefined) {
      if (e.PRESSROOM_SMTP_HOST !== undefined)
        throw new ConfigurationError(
          'set PRESSROOM_SMTP_URL or PRESSROOM_SMTP_HOST (and its companions), not both',
        );
      return { kind: 'smtp', url: e.PRESSROOM_SMTP_URL };
    }
    const host = e.PRESSROOM_SMTP_HOST ?? f.host;
    const user = e.PRESSROOM_SMTP_USER ?? f.user;
    const secureEnv = e.PRESSROOM_SMTP_SECURE;
    const envMode = secureEnv === 'true' ? 'tls' : secureEnv === 'false' ? 'starttls' : secureEnv;
    const fileMode = f.secure
      ? 'tls'
      : f.requireTls === true
        ? 'starttls'
        : f.requireTls === false
          ? 'none'
          : undefined;
    const givenPort = e.PRESSROOM_SMTP_PORT ?? f.port;
    const mode = envMode ?? fileMode ?? (givenPort === 465 ? 'tls' : 'starttls');
    return {
      kind: 'smtp',
      ...(host !== undefined && { host }),
      port: givenPort ?? (mode === 'tls' ? 465 : 587),
      secure: mode === 'tls',
      requireTls: mode === 'starttls',
      ...(user !== undefined && { user }),
      ...(e.PRESSROOM_SMTP_PASSWORD !== undefined && { password: e.PRESSROOM_SMTP_PASSWORD }),
    };
  }
  if (kind === 'ses') {
    const configurationSet =
      e.PRESSROOM_SES_CONFIGURATION_SET ?? (file?.kind === 'ses' ? file.configurationSet : undefined);
    return { kind: 'ses', ...(configurationSet !== undefined && { configurationSet }) };
  }
  return { kind: 'outbox' };
}

/** What a campaign file may leave out, from the configuration (pressroom.yaml, environment). */
export function campaignDefaults(config: LocalConfig): CampaignDefaults {
  return {
    ...(config.sender && { from: config.sender }),
    ...(config.replyTo !== undefined && { replyTo: config.replyTo }),
    timeZone: config.timeZone,
    pressLists: Object.values(config.lists)
      .filter((l) => l.press)
      .map((l) => l.name),
  };
}

/**
 * The lists open to subscription, for `serve`: the file named by --lists (or PRESSROOM_LISTS;
 * every list in it is open), else the workspace's lists marked `subscription: open`, else
 * `./lists.yaml` when there is one (outside a workspace, as before workspaces). `from` says
 * where they came from, for the line serve prints.
 */
export async function subscriptionLists(
  file: string | undefined,
  config: LocalConfig,
): Promise<{ lists: SubscribableLists; from: string }> {
  if (file === undefined && config.workspace) {
    const shown = path.relative(process.cwd(), config.workspace.file) || config.workspace.file;
    return {
      lists: openLists(config.lists, {
        lang: config.siteLang,
        ...(config.sender && { sender: config.sender }),
        ...(config.replyTo !== undefined && { replyTo: config.replyTo }),
        file: shown,
      }),
      from: shown,
    };
  }
  const name = file ?? 'lists.yaml';
  let source: string;
  try {
    source = await readFile(name, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && file === undefined)
      return { lists: {}, from: 'no pressroom.yaml, no ./lists.yaml' };
    throw new InvalidInputError([
      { file: name, path: '', message: `cannot read the lists file: ${(error as Error).message}` },
    ]);
  }
  return { lists: parseSubscribableLists(source, name), from: name };
}

/**
 * The SMTP settings, complete: a server, and a password for a login. Checked when the mailer
 * is built, so that commands that send nothing do not ask for the password.
 */
export function smtpSettings(smtp: Extract<LocalConfig['mailer'], { kind: 'smtp' }>): SmtpSettings {
  const { kind: _smtp, ...settings } = smtp;
  if (settings.url) return settings;
  if (!settings.host) {
    throw new ConfigurationError(
      'the smtp mailer needs a server: set mailer.host in pressroom.yaml, or PRESSROOM_SMTP_HOST (or PRESSROOM_SMTP_URL=smtp://user:password@host:587)',
    );
  }
  if (settings.user !== undefined && settings.password === undefined) {
    throw new ConfigurationError(
      `the SMTP login ${JSON.stringify(settings.user)} needs its password: set PRESSROOM_SMTP_PASSWORD in the environment (never in pressroom.yaml)`,
    );
  }
  if (settings.password !== undefined && settings.user === undefined)
    throw new ConfigurationError(
      'PRESSROOM_SMTP_PASSWORD is set without a login: set PRESSROOM_SMTP_USER (or mailer.user)',
    );
  return settings;
}

/** The mailer named by the configuration; the outbox writes into the store. */
export async function createMailer(
  config: LocalConfig,
  store: FolderObjectStore,
): Promise<Mailer & { close?(): void }> {
  switch (config.mailer.kind) {
    case 'smtp': {
      const { SmtpMailer } = await import('../lambdas/adapters/smtp-mailer.ts');
      return new SmtpMailer(smtpSettings(config.mailer));
    }
    case 'ses': {
      const { SesMailer } = await import('../lambdas/adapters/ses-mailer.ts');
      return new SesMailer(
        config.mailer.configurationSet ? { configurationSet: config.mailer.configurationSet } : {},
      );
    }
    default: {
      const { OutboxMailer } = await import('../lambdas/adapters/outbox-mailer.ts');
      return new OutboxMailer(store);
    }
  }
}

/**
 * The signing secret: PRESSROOM_SECRET, or one generated on first use and kept in the data
 * folder's private part (never under site/ and never synced as an object).
 */
export async function signingSecret(dataDir: string, env = process.env): Promise<string> {
  if (env.PRESSROOM_SECRET) return env.PRESSROOM_SECRET;
  const file = path.join(dataDir, '.pressroom-store', 'secret');
  // Made once: afterwards it is only read, so that a command that changes nothing writes nothing.
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing?.trim()) return existing.trim();
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

/** A command that needs a store, run outside any workspace with no --data-dir. */
export class NoWorkspaceError extends PressroomError {
  override name = 'NoWorkspaceError';
}

/** The store folder, or the "no workspace here" error (with a hint when an older store is here). */
export function storeDir(config: LocalConfig, cwd = process.cwd()): string {
  if (config.dataDir !== undefined) return config.dataDir;
  const older = path.join(cwd, '.pressroom', '.pressroom-store');
  throw new NoWorkspaceError(
    `no workspace here: run \`pressroom init\` or pass --data-dir (no ${workspaceFileName} in ${shortPath(cwd)} or any folder above it)${
      existsSync(older)
        ? '. This folder holds a store made before workspaces (.pressroom): `pressroom init` here makes the folder a workspace that keeps using it, or pass --data-dir .pressroom'
        : ''
    }`,
  );
}

/** The store of the local backend and the keys derived from its secret: what reading commands need. */
export async function localStore(
  config: LocalConfig,
): Promise<{ store: FolderObjectStore; keys: ContactKeys }> {
  const dataDir = storeDir(config);
  const secret = await signingSecret(dataDir);
  announceStore(
    dataDir,
    config.dataDirFrom === 'workspace' && config.workspace
      ? `workspace ${shortPath(config.workspace.root)}`
      : (config.dataDirFrom ?? '--data-dir'),
  );
  const store = new FolderObjectStore({
    root: dataDir,
    signingSecret: secret,
    publicUrl: config.publicUrl,
  });
  return { store, keys: contactKeys(secret) };
}

/**
 * Everything the local commands that render or publish need: the store, the templates, the
 * renderer, the press room and (unless `pdf: false`) the PDF printer. What renders is loaded
 * here, when a command asks for it, so that the commands that only read the store start fast.
 */
export async function localBackend(
  config: LocalConfig,
  options: { pdf?: boolean } = {},
): Promise<LocalBackend> {
  const dataDir = storeDir(config);
  const [
    { loadTemplateFiles },
    { createReleaseRenderer },
    { siteDeps },
    { localFiles },
    { createSharpCardPainter },
    { sharpImages },
  ] = await Promise.all([
    import('../lambdas/adapters/template-files.ts'),
    import('../lambdas/core/render/document.ts'),
    import('../lambdas/core/archive/publish.ts'),
    import('../lambdas/adapters/local-files.ts'),
    import('../lambdas/adapters/sharp-card.ts'),
    import('../lambdas/adapters/sharp-images.ts'),
  ]);
  const templates = await loadTemplateFiles(config.templatesDir);
  const { store, keys } = await localStore({ ...config, dataDir });
  let printer: (PdfPrinter & { close(): Promise<void> }) | undefined;
  if (options.pdf !== false) {
    const [{ ChromiumPdfPrinter }, { findBrowser }] = await Promise.all([
      import('../lambdas/adapters/chromium-pdf.ts'),
      import('../lambdas/adapters/browser.ts'),
    ]);
    printer = new ChromiumPdfPrinter(() => findBrowser({ chromiumPath: config.chromiumPath }));
  }
  return {
    config,
    store,
    keys,
    templates,
    files: localFiles({ maxFileSize: config.maxFileSize }),
    renderer: createReleaseRenderer(templates),
    images: sharpImages(),
    ...siteDeps(templates, config),
    ...(printer && { printer }),
    cardPainter: createSharpCardPainter(),
    async close() {
      await printer?.close();
    },
  };
}
