import { buildCommand } from '../../scripts/build.ts';

/**
 * Vitest's global set-up: compiles the command into dist/ once before the tests, so that the
 * tests that run `pressroom` run the JavaScript that ships, built from the sources as they are
 * now (not a dist/ left from an older build).
 */
export default async function setup(): Promise<void> {
  await buildCommand();
}
