import { z } from 'zod';

/**
 * The answers every route of the admin's JSON API shares (api.ts and each section's routes):
 * an error, and problems by field. Their own module, so that the sections' route lists,
 * which api.ts imports, can use them when they load.
 */

export const fieldProblem = z
  .object({
    field: z
      .string()
      .describe('The field, e.g. `publishers[0].pressContact.email`; empty for the whole file'),
    message: z.string().describe('What is wrong and what to do'),
    value: z.unknown().optional().describe('The value given'),
    file: z.string().optional(),
    line: z.number().int().optional(),
  })
  .describe('A problem, beside its field');

export const errorResponse = z.object({ error: z.string() });

export const problemsResponse = z.object({ error: z.string(), problems: z.array(fieldProblem) });
