import { describe, expect, it } from 'vitest';
import { importProgressBar } from '../../bin/actions/contacts.ts';

describe('the import progress bar', () => {
  it('shows rows per second and the time left while reading, then the shards with their ETA', async () => {
    const written: string[] = [];
    let now = 10_000;
    const bar = importProgressBar({ write: (text: string) => written.push(text) > 0 }, 1_000_000, () => now);
    // 250,000 bytes of 1,000,000 read in 2 s, 25,000 rows: 6 s left at that pace.
    async function* file() {
      yield Buffer.alloc(250_000);
    }
    for await (const _ of bar.count(file()));
    now += 2_000;
    bar.update({ phase: 'reading', rows: 25_000 });
    expect(written.at(-1)).toBe(
      `\r${'█'.repeat(6)}${'░'.repeat(18)} 25,000 rows · 12,500 rows/s · ETA 6s\u001b[K`,
    );
    // Redrawn at most 10 times a second.
    now += 50;
    bar.update({ phase: 'reading', rows: 26_000 });
    expect(written).toHaveLength(1);
    // Writing: 16 shards of 256 in the first second after the first one drawn: 15 s left.
    now += 1_000;
    bar.update({ phase: 'writing', rows: 100_000, shards: 1, of: 256 });
    expect(written.at(-1)).toContain('100,000 rows read · writing shard 1/256\u001b[K');
    now += 1_000;
    bar.update({ phase: 'writing', rows: 100_000, shards: 17, of: 256 });
    expect(written.at(-1)).toContain('writing shard 17/256 · ETA 15s');
    bar.end();
    expect(written.at(-1)).toBe('\r\u001b[K');
  });
});
