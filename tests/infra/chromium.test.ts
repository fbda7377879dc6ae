import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageClosure } from '../../lib/chromium.ts';
import { handlerNames } from '../../lib/functions.ts';
import { logicalId, realSender, removeOutdirs, repo, synth } from './stack.ts';

let t: Template;
const fn = {} as Record<(typeof handlerNames)[number], string>;

beforeAll(() => {
  t = synth(realSender).template;
  for (const name of handlerNames) {
    fn[name] = logicalId(t, 'AWS::Lambda::Function', `${name[0]?.toUpperCase()}${name.slice(1)}Function`);
  }
});
afterAll(removeOutdirs);

const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')).packages;

describe('Chromium on the publish path', () => {
  it('publish carries the Chromium layer, runs on x86_64 (the npm build of Chromium is x64 only), with the memory and time measured for a print', () => {
    const layers = t.findResources('AWS::Lambda::LayerVersion');
    expect(Object.keys(layers)).toHaveLength(1);
    const [layerId, layer] = Object.entries(layers)[0] as [string, { Properties: Record<string, unknown> }];
    expect(layer.Properties).toMatchObject({
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: ['nodejs22.x'],
      Description: `pressroom: @sparticuz/chromium@${lock['node_modules/@sparticuz/chromium'].version}, playwright-core@${lock['node_modules/playwright-core'].version}, sharp@${lock['node_modules/sharp'].version} for printing PDFs and making images`,
    });
    const publish = t.findResources('AWS::Lambda::Function')[fn.publish]?.Properties;
    expect(publish).toMatchObject({
      Architectures: ['x86_64'],
      Layers: [{ Ref: layerId }],
      MemorySize: 2048,
      Timeout: 300,
    });
  });

  it('no other function carries the layer, and they stay on arm64', () => {
    for (const name of handlerNames.filter((n) => n !== 'publish')) {
      const f = t.findResources('AWS::Lambda::Function')[fn[name]]?.Properties;
      expect(f?.Layers, name).toBeUndefined();
      expect(f?.Architectures, name).toEqual(['arm64']);
    }
  });

  it('the layer holds @sparticuz/chromium and playwright-core with what they depend on, as package-lock.json says', () => {
    const packages = packageClosure(lock, ['@sparticuz/chromium', 'playwright-core']);
    expect(packages).toEqual(
      expect.arrayContaining([
        'node_modules/@sparticuz/chromium',
        'node_modules/playwright-core',
        'node_modules/tar-fs',
        'node_modules/tar-stream',
        'node_modules/pump',
      ]),
    );
    expect(packages.filter((p) => lock[p].dev)).toEqual([]);
    // A nested copy is taken before the hoisted one, as Node.js resolves it.
    const nested = {
      'node_modules/a': { dependencies: { b: '1' } },
      'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
      'node_modules/b': {},
      'node_modules/c': { optionalDependencies: { d: '1' } },
    };
    expect(packageClosure(nested, ['a'])).toEqual([
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c',
    ]);
    expect(() => packageClosure({ 'node_modules/a': { dependencies: { z: '1' } } }, ['a'])).toThrow(
      'node_modules/a needs z, which package-lock.json does not have: run npm ci',
    );
  });

  it('the layer holds sharp with its Linux x64 (glibc) build and libvips only, whatever machine synthesizes', () => {
    const packages = packageClosure(lock, ['sharp']);
    expect(packages).toEqual(
      expect.arrayContaining([
        'node_modules/sharp',
        'node_modules/@img/sharp-linux-x64',
        'node_modules/@img/sharp-libvips-linux-x64',
      ]),
    );
    // Other platforms' builds (macOS, Windows, arm64, musl) are left out.
    expect(packages.filter((p) => p.startsWith('node_modules/@img/sharp-'))).toEqual([
      'node_modules/@img/sharp-libvips-linux-x64',
      'node_modules/@img/sharp-linux-x64',
    ]);
    // An optional package npm did not install here is not asked for.
    expect(packageClosure(lock, ['sharp'], (p) => !p.includes('libvips'))).not.toContain(
      'node_modules/@img/sharp-libvips-linux-x64',
    );
  });
});
