import { describe, expect, it } from 'vitest';
import { checkPackage, packageContentProblems } from '../../scripts/check-package.ts';

/**
 * The package as npm would publish it works once installed: packed, unpacked into an empty
 * folder's node_modules beside this clone's production dependencies (no registry: tests use
 * the loopback only; `npm run check:package` does the same with a real `npm install`), then
 * `npx pressroom --help`, `pressroom init` and `pressroom render` of the shipped seed release.
 */
describe('the npm package', () => {
  it('installs into an empty folder and runs', async () => {
    const check = await checkPackage({ link: true, build: false });
    expect(check.files).toContain('dist/pressroom.js');
    expect(check.files.some((f) => f.startsWith('templates/press-release/'))).toBe(true);
    // Small: the command and what it reads, nothing else (the dependencies come from npm).
    expect(check.size).toBeLessThan(1024 * 1024);
    const help = check.steps.find((s) => s.command === 'npx pressroom --help')?.output ?? '';
    expect(help).toContain('Usage: pressroom');
    expect(help).toMatch(/render \[options\] <publication>/);
    const version = check.steps.find((s) => s.command === 'pressroom --version')?.output.trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  }, 120_000);

  it('says what a tarball lacks or should not ship', () => {
    expect(packageContentProblems(['package.json'])).toEqual(
      expect.arrayContaining([expect.stringMatching(/lacks dist\/pressroom\.js/)]),
    );
    const problems = packageContentProblems(['tests/unit/a.test.ts', 'lambdas/core/x.ts']);
    expect(problems.some((p) => p.includes('tests/unit/a.test.ts'))).toBe(true);
  });
});
