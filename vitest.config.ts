import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The tests run the compiled command (dist/pressroom.js), built once before them.
    globalSetup: ['tests/support/build-command.ts'],
    // MJML takes about half a second to load; the first render in a worker pays for it.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
