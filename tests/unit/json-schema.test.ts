import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../bin/actions/schema.ts';

describe('JSON Schemas for editors', () => {
  it.each(Object.keys(jsonSchemas()))(
    'schemas/%s is generated from the current zod schema (run `npm run schema`)',
    async (name) => {
      const committed = JSON.parse(await readFile(`schemas/${name}`, 'utf8'));
      expect(committed).toEqual(jsonSchemas()[name]);
    },
  );

  it('lists every front-matter field and refuses others', () => {
    const schema = jsonSchemas()['publication.schema.json'] as {
      properties: object;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'title',
        'date',
        'embargo',
        'lang',
        'slug',
        'lead',
        'publishers',
        'quotes',
        'figures',
        'links',
        'attachments',
        'author',
        'tags',
      ]),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['title', 'date', 'lead', 'publishers']));
    expect(schema.additionalProperties).toBe(false);
  });
});
