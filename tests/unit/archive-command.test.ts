import { describe, expect, it } from 'vitest';
import { archiveCommand, linkFormatNames } from '../../bin/commands/archive.ts';
import { linkFormats } from '../../lambdas/core/archive/publish.ts';

describe('archive link --format', () => {
  it('names in its help the formats the archive checks (written out so the help loads no core)', () => {
    expect([...linkFormatNames]).toEqual(linkFormats);
    const link = archiveCommand().commands.find((c) => c.name() === 'link');
    const format = link?.options.find((o) => o.long === '--format');
    expect(format?.description).toBe(`one of ${[...linkFormats, 'all'].join(', ')}`);
  });
});
