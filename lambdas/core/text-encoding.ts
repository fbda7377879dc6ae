/**
 * The encodings of files people write (Markdown, YAML, CSV): UTF-8, UTF-16 from Excel's
 * "Unicode text", and Windows-1252 from French Windows editors. Import-free, so the CSV
 * importer and the Lambda bundles take it without the YAML parser.
 */

/** A text file decoded, and what was done when it was not UTF-8. */
export interface DecodedText {
  text: string;
  /** Set when the file was converted from another encoding: tell the user. */
  notice?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a text file people wrote. Valid UTF-8 is always read as UTF-8 (a byte-order mark
 * is dropped). A file with a UTF-16 mark, or UTF-16 without one (every other byte zero), is
 * converted. Anything else is read as Windows-1252, the encoding Windows editors in France
 * save in (Latin-1 is a subset of it): every byte decodes to a character, so no U+FFFD ever
 * reaches a release. The notice names the encoding and how to save the file as UTF-8.
 */
export function decodeText(bytes: Uint8Array, file: string): DecodedText {
  const saveAsUtf8 =
    'saving it as UTF-8 avoids this (in Notepad: File > Save as > Encoding: UTF-8; in most editors: Save with encoding > UTF-8)';
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    // not UTF-8: see below
  }
  // Valid UTF-8 is text as it is, unless it is full of NULs: then it is UTF-16 without its mark.
  const utf16 = text === undefined || text.includes('\u0000') ? utf16Of(bytes) : undefined;
  if (utf16) {
    return {
      text: new TextDecoder(utf16).decode(bytes),
      notice: `${file} is ${utf16 === 'utf-16le' ? 'UTF-16 (little-endian)' : 'UTF-16 (big-endian)'}, not UTF-8: converted; ${saveAsUtf8}`,
    };
  }
  if (text !== undefined) return { text };
  return {
    text: decodeWindows1252(bytes),
    notice: `${file} is not UTF-8: read as Windows-1252 (Latin-1), the usual encoding of Windows in France. If accented letters look wrong in the result, the file is in another encoding; ${saveAsUtf8}`,
  };
}

/**
 * Windows-1252's characters for the bytes 0x80–0x9F, where it differs from Latin-1 (the five
 * bytes it leaves undefined stay control characters, which the loaders refuse).
 */
const windows1252High =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

const latin1 = new TextDecoder('latin1');

/**
 * Windows-1252 text. Node 20's TextDecoder('windows-1252') decodes Latin-1 in a one-shot
 * decode (0x92 gives U+0092, not ’; only its streaming mode gets it right), so the 32 bytes
 * where the two differ are mapped here.
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  return latin1
    .decode(bytes)
    .replace(/[\u0080-\u009f]/g, (c) => windows1252High[c.charCodeAt(0) - 0x80] ?? c);
}

/**
 * UTF-16 by its byte-order mark, or by its zero bytes (ASCII letters in UTF-16 are half zeros):
 * the one test for Markdown, YAML and CSV files alike.
 */
export function utf16Of(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const sample = Math.min(bytes.length, 4096) & ~1;
  if (sample < 8) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = sample / 2;
  if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.05) return 'utf-16le';
  if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.05) return 'utf-16be';
  return undefined;
}
