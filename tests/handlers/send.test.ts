/** The functions' bundles, built with the options the stack gives esbuild (lib/functions.ts). */
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { externalModules, type HandlerName, projectRoot } from '../../lib/functions.ts';

interface Bundle {
  bytes: number;
  /** Every file the bundle holds code from, relative to the project. */
  inputs: string[];
  /** The bytes each of them adds to the bundle. */
  bytesFrom: Record<string, number>;
  /** The packages it leaves to the runtime (the AWS SDK) and loads with the bundle. */
  external: string[];
}

async function bundle(name: HandlerName, awsSdk: 'runtime' | 'bundled' = 'runtime'): Promise<Bundle> {
  const result = await build({
    entryPoints: [path.join(projectRoot, 'lambdas/handlers', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    charset: 'utf8',
    mainFields: ['module', 'main'],
    alias: { 'source-map': path.join(projectRoot, 'lib/no-source-map.cjs') },
    external: externalModules(awsSdk),
    metafile: true,
    write: false,
    outfile: 'index.mjs',
    logLevel: 'silent',
  });
  const metafile: Metafile = result.metafile;
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const bytesFrom = Object.fromEntries(
    Object.entries(output?.inputs ?? {})
      .filter(([, used]) => used.bytesInOutput > 0)
      .map(([file, used]) => [file.replace(/^.*node_modules\//, 'node_modules/'), used.bytesInOutput]),
  );
  const inputs = Object.keys(bytesFrom);
  // Loaded with the bundle: an `import()` inside a function (the presigner) is not.
  const external = new Set<string>();
  for (const input of Object.values(metafile.inputs))
    for (const i of input.imports)
      if (i.external && i.kind !== 'dynamic-import' && i.path.startsWith('@aws-sdk/')) external.add(i.path);
  return {
    bytes: result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0),
    inputs,
    bytesFrom,
    external: [...external].sort(),
  };
}

const from = (inputs: string[], pattern: RegExp) => inputs.filter((i) => pattern.test(i));

describe('send function bundle', () => {
  it('holds what sending needs only: no MJML, no Handlebars, no YAML parser, no zod locales, no source maps, no MailComposer, and stays under 250 KB', async () => {
    const send = await bundle('send');
    expect(send.inputs).toContain('lambdas/handlers/send.ts');
    expect(send.inputs).toContain('lambdas/core/render/placeholders.ts');
    expect(from(send.inputs, /node_modules\/mjml/)).toEqual([]);
    // The placeholders are filled by core/render/placeholders.ts: neither Handlebars' compiler
    // nor its runtime is in the bundle.
    expect(from(send.inputs, /node_modules\/handlebars\//)).toEqual([]);
    expect(from(send.inputs, /node_modules\/yaml\//)).toEqual([]);
    expect(from(send.inputs, /node_modules\/source-map\//)).toEqual([]);
    // zod's namespace import is shaken: its other languages and JSON Schema reading stay out.
    expect(from(send.inputs, /zod\/v4\/locales\/(?!en\.js)/)).toEqual([]);
    expect(from(send.inputs, /zod\/v4\/classic\/from-json-schema/)).toEqual([]);
    // The message's skeleton and each To are built by dispatch: neither MailComposer nor
    // MimeNode, nor their content-type table, is in the bundle; qp fills the bodies.
    expect(from(send.inputs, /nodemailer\/dist\/esm\/(mail-composer|mime-funcs\/mime-types)/)).toEqual([]);
    // Of MimeNode, only its module's constants (regular expressions esbuild keeps): not the class.
    expect(send.bytesFrom['node_modules/nodemailer/dist/esm/mime-node/index.js'] ?? 0).toBeLessThan(1_000);
    expect(send.inputs).toContain('node_modules/nodemailer/dist/esm/qp/index.js');
    // The template reader, the erasure and the campaign file reader are not on this path.
    expect(from(send.inputs, /adapters\/template-files|core\/privacy|campaign-file/)).toEqual([]);
    // The ledger table, S3, SES, the signing secret and Scheduler (a campaign's next quota
    // window): no other client, and not the presigner (no function signs download links: the
    // S3 store imports it when it signs).
    expect(send.external).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-scheduler',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-ses',
    ]);
    expect(send.bytes).toBeGreaterThan(100_000);
    // 236 KB with the advance copies, tracking, approval and metrics (352 KB with MailComposer),
    // 240 KB with the schedule of a campaign's next quota window (+5 KB): zod (103 KB) is most of it.
    expect(send.bytes).toBeLessThan(250 * 1024);
  });

  it('with awsSdk: bundled, holds the parts of the SDK it calls, shaken, and leaves nothing to the runtime', async () => {
    const send = await bundle('send', 'bundled');
    expect(send.external).toEqual([]);
    // The five clients' commands it sends, from the packages themselves, not the runtime's.
    for (const client of ['dynamodb', 's3', 'scheduler', 'secrets-manager', 'ses'])
      expect(from(send.inputs, new RegExp(`node_modules/@aws-sdk/client-${client}/`)).length).toBeGreaterThan(
        0,
      );
    expect(send.inputs).toContain('node_modules/@aws-sdk/client-ses/dist-es/commands/SendRawEmailCommand.js');
    // Shaken to those commands: the SES client's other operations stay out (the runtime's
    // client-ses loads every one of them).
    expect(from(send.inputs, /client-ses\/dist-es\/commands\/(?!SendRawEmail|GetSendQuota)/)).toEqual([]);
    // 768 KB on 2026-12-08 (docs/performance.md, "Lambda bundles"): with the runtime's SDK, 244 KB.
    expect(send.bytes).toBeLessThan(900 * 1024);
  });

  it('keeps the feedback function free of mail composition, templates and YAML', async () => {
    const feedback = await bundle('feedback');
    expect(from(feedback.inputs, /node_modules\/(nodemailer|handlebars|yaml|mjml)\//)).toEqual([]);
    expect(feedback.external).toEqual(['@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager']);
    expect(feedback.bytes).toBeLessThan(200 * 1024);
  });

  it('keeps the YAML parser, Handlebars and the presigner out of dispatch, which reads records only', async () => {
    const dispatch = await bundle('dispatch');
    expect(from(dispatch.inputs, /node_modules\/(yaml|mjml|source-map|handlebars)\//)).toEqual([]);
    // SES for the sending quota, Scheduler for the next day's slice (core/campaigns/quota.ts).
    expect(dispatch.external).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-scheduler',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-ses',
      '@aws-sdk/client-sqs',
    ]);
  });

  it('keeps the presigner out of public, which mails confirmations and signs no link', async () => {
    const publicFunction = await bundle('public');
    expect(publicFunction.external).toEqual([
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-ses',
    ]);
  });
});
