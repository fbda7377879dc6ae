import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../bin/actions/send.ts';
import type { Progress } from '../../lambdas/core/campaigns/send.ts';

/** A stream that keeps what is written, and a clock the test moves. */
function terminal(isTTY: boolean) {
  const written: string[] = [];
  let now = 0;
  const printer = progressPrinter(
    {
      isTTY,
      write: (chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      },
    } as Parameters<typeof progressPrinter>[0],
    () => now,
  );
  const at = (ms: number) => {
    now = ms;
  };
  return { written, printer, at };
}

const progress = (done: number, total = 5_000): Progress => ({
  total,
  done,
  sent: done,
  failed: 0,
  skipped: 0,
  // The core's figure since the start (audience reading included): the printer does not use it.
  rate: 1,
});

describe('the send progress line', () => {
  it('shows the rate over the last seconds and the ETA from it, redrawn at most 10 times a second on a terminal', () => {
    const { written, printer, at } = terminal(true);
    // Slow start (reading the audience), then 1,000 messages a second.
    at(0);
    printer.update(progress(0, 100_000));
    for (let ms = 3_000, done = 1; ms <= 9_000; ms += 1, done += 1) {
      at(ms);
      printer.update(progress(done, 100_000));
    }
    // 6,000 updates in 6 s, drawn about 60 times, not 6,000.
    expect(written.length).toBeGreaterThan(50);
    expect(written.length).toBeLessThan(80);
    const last = written.at(-1) as string;
    expect(last.startsWith('\r')).toBe(true);
    // Not 6,001 / 9 s (667/s), the average since the start.
    expect(last.endsWith('\u001b[K')).toBe(true);
    expect(last).toMatch(/^\r[█░]{24} 6001\/100000 · .* · 1000\/s · ETA 1m34s/);
  });

  it('gives the time left in minutes and seconds, and finishes the line when done', () => {
    const { written, printer, at } = terminal(true);
    at(0);
    printer.update(progress(0, 120_000));
    at(10_000);
    printer.update(progress(10_000, 120_000));
    // 1,000/s over the window, 110,000 left: 1 min 50 s.
    expect(written.at(-1)).toMatch(/10000\/120000 · sent 10000 · failed 0 · skipped 0 · 1000\/s · ETA 1m50s/);
    at(10_001);
    printer.update(progress(120_000, 120_000));
    expect(written.at(-1)).toBe('\n');
  });

  it('prints a plain line every 5 seconds when not on a terminal (logs, CI), and the last one', () => {
    const { written, printer, at } = terminal(false);
    for (let s = 0; s <= 12; s++) {
      at(s * 1_000);
      printer.update(progress(s * 10, 200));
    }
    at(13_000);
    printer.update(progress(200, 200));
    expect(written).toHaveLength(4);
    expect(written.every((l) => !l.includes('\r') && l.endsWith('\n'))).toBe(true);
    expect(written[2]).toMatch(/^100\/200 · .* · 10\.0\/s · ETA 10s\n$/);
    expect(written[3]).toMatch(/^200\/200 /);
  });
});
