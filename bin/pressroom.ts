#!/usr/bin/env node
import { CommanderError } from 'commander';
import { exitCodes } from '../lambdas/core/errors.ts';
import { fail } from './output.ts';
import { buildProgram } from './program.ts';

/** The `pressroom` command (compiled to dist/pressroom.js; `npm run pressroom` runs this source). */
buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : exitCodes.usage);
    fail(error);
  });
