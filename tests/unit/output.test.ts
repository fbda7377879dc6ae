import { describe, expect, it } from 'vitest';
import { debugEnabled, forTerminal } from '../../bin/output.ts';
import { BusyError, exitCodes, InvalidInputError, PressroomError } from '../../lambdas/core/errors.ts';

describe('terminal output', () => {
  it('shows control characters as escapes and keeps newlines, tabs and text', () => {
    expect(forTerminal('Café\tÉlodie\n')).toBe('Café\tÉlodie\n');
    expect(forTerminal('a\u001b[31mred\u001b[0m')).toBe('a\\x1B[31mred\\x1B[0m');
    expect(forTerminal('over\rwritten')).toBe('over\\x0Dwritten');
    expect(forTerminal('nul\u0000 bell\u0007 c1\u009b')).toBe('nul\\x00 bell\\x07 c1\\x9B');
    expect(forTerminal('evil\u202Etxt.exe')).toBe('evil\\u202Etxt.exe');
  });

  it('turns the debug switch on only for a true-ish PRESSROOM_DEBUG', () => {
    expect(debugEnabled({})).toBe(false);
    expect(debugEnabled({ PRESSROOM_DEBUG: '0' })).toBe(false);
    expect(debugEnabled({ PRESSROOM_DEBUG: 'false' })).toBe(false);
    expect(debugEnabled({ PRESSROOM_DEBUG: '1' })).toBe(true);
  });

  it('gives each kind of error its exit code', () => {
    expect(new PressroomError('x').exitCode).toBe(exitCodes.input);
    expect(new InvalidInputError([{ file: 'a', path: '', message: 'm' }]).exitCode).toBe(1);
    expect(new BusyError('held').exitCode).toBe(3);
  });
});
