import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import { z } from 'zod';
import { ChromiumPdfPrinter } from '../lambdas/adapters/chromium-pdf.ts';
import { FolderObjectStore } from '../lambdas/adapters/folder-store.ts';
import { localSourceFiles } from '../lambdas/adapters/local-files.ts';
import { defaultTemplatesDir, loadTemplateFiles } from '../lambdas/adapters/template-files.ts';
import { createPressRoom } from '../lambdas/core/archive/press-room.ts';
import type { PublishDeps } from '../lambdas/core/archive/publish.ts';
import { type ContactKeys, contactKeys } from '../lambdas/core/contacts/model.ts';
import { PressroomError } from '../lambdas/core/errors.ts';
import { languages } from '../lambdas/core/publication/schema.ts';
import { createReleaseRenderer } from '../lambdas/core/render/document.ts';

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
  templatesDir: string;
}

export const dataDirOption = new Option('--data-dir <dir>', 'local data folder (the store)')
  .env('PRESSROOM_DATA_DIR')
  .default('./.pressroom');

const url = (name: string) =>
  z.url({ protocol: /^https?$/, error: `${name} must be an absolute http:// or https:// URL` });

const envSchema = z.object({
  PRESSROOM_SITE_URL: url('PRESSROOM_SITE_URL').default('http://localhost:3000/'),
  PRESSROOM_PUBLIC_URL: url('PRESSROOM_PUBLIC_URL').default('http://localhost:3000'),
  PRESSROOM_SITE_LANG: z.enum(languages, { error: 'PRESSROOM_SITE_LANG must be "fr" or "en"' }).default('fr'),
  PRESSROOM_SITE_TITLE: z.string().min(1).optional(),
  PRESSROOM_TEMPLATES_DIR: z.string().min(1).optional(),
  PRESSROOM_SECRET: z.string().min(32, 'PRESSROOM_SECRET must be at least 32 characters').optional(),
});

export class ConfigurationError extends PressroomError {
  override name = 'ConfigurationError';
}

/** Reads and checks the configuration; a bad value stops the command with its name. */
export function loadConfig(opts: { dataDir?: string; templates?: string }, env = process.env): LocalConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(
      `bad configuration: ${parsed.error.issues.map((i) => `${i.message} (value: ${JSON.stringify(env[String(i.path[0])])})`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    dataDir: path.resolve(opts.dataDir ?? './.pressroom'),
    siteUrl: e.PRESSROOM_SITE_URL.endsWith('/') ? e.PRESSROOM_SITE_URL : `${e.PRESSROOM_SITE_URL}/`,
    publicUrl: e.PRESSROOM_PUBLIC_URL,
    siteLang: e.PRESSROOM_SITE_LANG,
    ...(e.PRESSROOM_SITE_TITLE !== undefined && { siteTitle: e.PRESSROOM_SITE_TITLE }),
    templatesDir: opts.templates ?? e.PRESSROOM_TEMPLATES_DIR ?? defaultTemplatesDir,
  };
}

/**
 * The signing secret: PRESSROOM_SECRET, or one generated on first use and kept in the data
 * folder's private part (never under site/ and never synced as an object).
 */
export async function signingSecret(dataDir: string, env = process.env): Promise<string> {
  if (env.PRESSROOM_SECRET) return env.PRESSROOM_SECRET;
  const file = path.join(dataDir, '.pressroom-store', 'secret');
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await readFile(file, 'utf8')).trim();
}

/** Everything the local commands need, built once: the adapters of the core's ports. */
export interface LocalBackend extends PublishDeps {
  store: FolderObjectStore;
  config: LocalConfig;
  /** Contact ids and token keys, derived from the signing secret. */
  keys: ContactKeys;
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
  const printer = options.pdf === false ? undefined : new ChromiumPdfPrinter();
  return {
    config,
    store,
    keys: contactKeys(secret),
    files: localSourceFiles,
    renderer: createReleaseRenderer(templates),
    pressRoom: createPressRoom(templates, {
      siteUrl: config.siteUrl,
      lang: config.siteLang,
      ...(config.siteTitle !== undefined && { title: config.siteTitle }),
    }),
    sampleRecipient: templates.sampleRecipient,
    siteUrl: config.siteUrl,
    ...(printer && { printer }),
    async close() {
      await printer?.close();
    },
  };
}
