import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** axe-core's source (a devDependency), to inject into pages: nothing is fetched. */
export function axeSource(): Promise<string> {
  return readFile(createRequire(import.meta.url).resolve('axe-core'), 'utf8');
}

interface AxeResult {
  violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  passes: unknown[];
}

/**
 * axe on a loaded page, every rule it runs by default (WCAG 2.x A and AA, best practices), of
 * every impact: its violations one line each (impact, rule, help, first targets), and how many
 * rules passed (a page axe could not look at passes none). A page whose Content-Security-Policy
 * forbids scripts needs a browser context opened with `bypassCSP`.
 */
export async function axeViolations(
  page: Page,
  source: string,
): Promise<{ violations: string[]; passes: number }> {
  await page.addScriptTag({ content: source });
  const result = await page.evaluate<AxeResult>(`axe.run(document, { resultTypes: ['violations'] })`);
  return {
    violations: result.violations.map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')})`,
    ),
    passes: result.passes.length,
  };
}
