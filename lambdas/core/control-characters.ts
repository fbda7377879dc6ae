import type { Problem } from './errors.ts';

// C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlCharacter = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** True when the text holds a control character no person types (NUL, escape...). */
export function hasControlCharacter(text: string): boolean {
  return controlCharacter.test(text);
}

/**
 * The first control character in a file's text, as a problem at its line and column: a NUL
 * or an escape byte in a Markdown or YAML file means a binary file or a broken export.
 */
export function controlCharacterProblem(text: string, file: string, firstLine = 1): Problem | undefined {
  const match = controlCharacter.exec(text);
  if (!match) return undefined;
  const before = text.slice(0, match.index);
  const lineStart = before.lastIndexOf('\n') + 1;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return {
    file,
    line: firstLine + (before.match(/\n/g)?.length ?? 0),
    column: match.index - lineStart + 1,
    path: '',
    message: `contains the control character U+${code}${code === '0000' ? ' (NUL)' : ''}, which no text should hold: remove it (is this really a text file, saved as UTF-8?)`,
  };
}
