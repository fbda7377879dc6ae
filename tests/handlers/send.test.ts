/** The send function's bundle, built as the stack builds it: no MJML in it, and small. */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('send function bundle', () => {
  it('contains no MJML and stays under 1 MB', async () => {
    const result = await build({
      entryPoints: ['lambdas/handlers/send.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      minify: true,
      external: ['@aws-sdk/*'],
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('lambdas/handlers/send.ts'))).toBe(true);
    expect(inputs.filter((i) => /(^|\/)mjml/.test(i))).toEqual([]);
    const size = result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThan(1024 * 1024);
  });
});
