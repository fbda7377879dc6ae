import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs a module in a fresh Node process and says whether MJML got loaded. */
function mjmlLoadedAfter(script: string): boolean {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `${script}
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
console.log(JSON.stringify(Object.keys(cache).some((k) => k.includes('/node_modules/mjml'))));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
}

describe('the recipient stage', () => {
  it('never loads MJML', () => {
    expect(
      mjmlLoadedAfter(`
import { compileForRecipients } from './lambdas/core/render/recipient.ts';
const email = compileForRecipients({ html: '<p>{{recipient.firstName}}</p>', text: '{{unsubscribeUrl}}' });
const out = email.fill({ recipient: { email: 'a@example.org', firstName: 'Ana' }, unsubscribeUrl: 'https://x.example/u' });
if (out.html !== '<p>Ana</p>') throw new Error(out.html);`),
    ).toBe(false);
  });

  it('(the check itself sees MJML when the document stage loads it)', () => {
    expect(
      mjmlLoadedAfter(`
import { loadMjml } from './lambdas/core/render/document.ts';
await loadMjml();`),
    ).toBe(true);
  });
});
