import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HandlerName, handlerNames } from '../../lib/functions.ts';
import { repo } from './stack.ts';

const execFileAsync = promisify(execFile);

/**
 * `npx cdk synth` as on a fresh clone: cdk.json's placeholder context, the five functions
 * bundled by the local esbuild, cdk-nag and CloudFormation's own validation. Offline: the
 * CLI's telemetry, version check and notices are off, and any request it would still make
 * goes to a closed port on 127.0.0.1.
 */
let outdir: string;
let run: { code: number; stdout: string; stderr: string };
interface LambdaResource {
  Type: string;
  Properties: { Description?: string; Code?: { S3Key?: string }; Content?: { S3Key?: string } };
}
let template: { Resources: Record<string, LambdaResource> };

beforeAll(async () => {
  outdir = await mkdtemp(path.join(tmpdir(), 'pressroom-synth-'));
  const closed = 'http://127.0.0.1:9';
  run = await execFileAsync(
    path.join(repo, 'node_modules/.bin/cdk'),
    ['synth', '--quiet', '--no-notices', '--output', outdir],
    {
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: '1',
        CDK_DISABLE_VERSION_CHECK: '1',
        AWS_EC2_METADATA_DISABLED: 'true',
        HTTP_PROXY: closed,
        HTTPS_PROXY: closed,
        http_proxy: closed,
        https_proxy: closed,
        NO_PROXY: '',
        no_proxy: '',
      },
    },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  if (run.code === 0) {
    template = JSON.parse(await readFile(path.join(outdir, 'Pressroom.template.json'), 'utf8'));
  }
}, 600_000);
afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

/** The folder esbuild's output for a function was staged in. */
function assetOf(name: HandlerName): string {
  const description = {
    publish: 'renders and archives',
    dispatch: 'starts a campaign',
    send: 'sends one batch',
    feedback: 'applies SES bounces',
    public: 'unsubscribe (page',
    admin: 'the web admin',
  }[name];
  const fn = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes(description),
  );
  expect(fn, name).toBeDefined();
  const hash = String(fn?.Properties.Code?.S3Key).replace(/\.zip$/, '');
  return path.join(outdir, `asset.${hash}`);
}

describe('npx cdk synth on a fresh clone', () => {
  it('succeeds offline, with no open cdk-nag or CloudFormation finding', async () => {
    expect(run.code, `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(0);
    const report = JSON.parse(await readFile(path.join(outdir, 'validation-report.json'), 'utf8'));
    const violations = report.pluginReports.flatMap(
      (r: { violations: { ruleName: string }[] }) => r.violations,
    );
    // The only thing said is that cdk.json's sender is a placeholder.
    expect(violations.map((v: { ruleName: string }) => v.ruleName)).toEqual([
      'Annotation::pressroom:placeholder-sender',
    ]);
    expect(run.stderr).toContain('sender "press@example.org" is a placeholder');
  });

  it('bundles each handler as an ES module with its source map', async () => {
    for (const name of handlerNames) {
      const dir = assetOf(name);
      const code = await readFile(path.join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith('import { createRequire as __pressroomRequire }'), name).toBe(true);
      expect(existsSync(path.join(dir, 'index.mjs.map')), name).toBe(true);
      console.log(
        `${name}: index.mjs ${((await stat(path.join(dir, 'index.mjs'))).size / 1024).toFixed(0)} KB`,
      );
    }
  });

  it('copies the templates into publish, public and admin only', () => {
    for (const name of handlerNames) {
      const templates = path.join(assetOf(name), 'templates');
      const expected = name === 'publish' || name === 'public' || name === 'admin';
      expect(existsSync(path.join(templates, 'locales', 'fr.yaml')), name).toBe(expected);
      expect(existsSync(path.join(templates, 'press-release', 'email.mjml')), name).toBe(expected);
    }
    // The admin's pages, strings, script and style sheet (lambdas/adapters/admin-files.ts).
    expect(existsSync(path.join(assetOf('admin'), 'templates', 'admin', 'layout.html.hbs'))).toBe(true);
  });

  it('keeps the send function under 420 KB, without the YAML parser', async () => {
    const file = path.join(assetOf('send'), 'index.mjs');
    expect((await stat(file)).size).toBeLessThan(420 * 1024);
    // The yaml package's own error codes: none of its code is in the sending path.
    expect(await readFile(file, 'utf8')).not.toContain('BAD_INDENT');
  });

  it('keeps MJML out of the send function', async () => {
    const code = await readFile(path.join(assetOf('send'), 'index.mjs'), 'utf8');
    // MJML registers its components by tag name; none may be in the sending path.
    expect(code).not.toMatch(/mj-(column|section|body|attributes)/);
    expect(code).not.toContain('mjml-core');
  });

  it('copies the Chromium layer from node_modules, and keeps publish and its layer under the 250 MB Lambda unzips', async () => {
    const layer = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::LayerVersion');
    const layerDir = path.join(
      outdir,
      `asset.${String(layer?.Properties.Content?.S3Key).replace(/\.zip$/, '')}`,
    );
    const modules = path.join(layerDir, 'nodejs', 'node_modules');
    expect(existsSync(path.join(modules, '@sparticuz/chromium/bin/chromium.br'))).toBe(true);
    expect(existsSync(path.join(modules, 'playwright-core/lib'))).toBe(true);
    expect(existsSync(path.join(modules, 'tar-fs/package.json'))).toBe(true);
    // sharp, its native build and libvips for Linux x64 (press kit images).
    expect(existsSync(path.join(modules, 'sharp/package.json'))).toBe(true);
    expect(existsSync(path.join(modules, '@img/sharp-linux-x64/package.json'))).toBe(true);
    expect(existsSync(path.join(modules, '@img/sharp-libvips-linux-x64/package.json'))).toBe(true);
    const layerBytes = await folderSize(layerDir);
    const publishBytes = await folderSize(assetOf('publish'));
    console.log(
      `publish: bundle ${(publishBytes / 2 ** 20).toFixed(1)} MB, Chromium layer ${(layerBytes / 2 ** 20).toFixed(1)} MB (unzipped)`,
    );
    expect(layerBytes + publishBytes).toBeLessThan(250 * 2 ** 20);
    // The other functions carry neither Chromium nor playwright-core.
    for (const name of handlerNames) {
      expect(existsSync(path.join(assetOf(name), 'node_modules')), name).toBe(false);
      if (name !== 'publish') expect(await folderSize(assetOf(name)), name).toBeLessThan(10 * 2 ** 20);
    }
  });
});

/** The bytes of the files under a folder. */
async function folderSize(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
