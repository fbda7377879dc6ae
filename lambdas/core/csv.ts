import { stringify } from 'csv-stringify/sync';

/**
 * CSV for spreadsheets. A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * or a tab or carriage return first: CSV injection) is prefixed with an apostrophe, which
 * spreadsheets show as text. A cell that already starts with an apostrophe gets one more, so
 * that {@link fromSpreadsheetSafe} gives back exactly what was written.
 */
export function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r']/.test(value) ? `'${value}` : value;
}

/** The value a {@link spreadsheetSafe} cell was made from (our own exports, imported again). */
export function fromSpreadsheetSafe(value: string): string {
  // The apostrophe first: the test most values skip (every cell of an import goes through).
  return value.charCodeAt(0) === 39 && /^'[=+\-@\t\r']/.test(value) ? value.slice(1) : value;
}

/** How a CSV file for people is written: the delimiter, and a byte-order mark for Excel. */
export interface SpreadsheetFormat {
  /** `,` (the default), `;` for spreadsheets set to French (and most of Europe), or a tab. */
  delimiter?: ',' | ';' | '\t';
  /** A UTF-8 byte-order mark first, so that Excel reads accents right (default true). */
  bom?: boolean;
}

/** Lines of CSV with every cell neutralised (`undefined` is an empty cell). */
export function spreadsheetLines(rows: (string | undefined)[][], format: SpreadsheetFormat = {}): string {
  return stringify(
    rows.map((row) => row.map((cell) => spreadsheetSafe(cell ?? ''))),
    { delimiter: format.delimiter ?? ',' },
  );
}

/** A CSV file's first line: the byte-order mark (unless `bom` is false), then the column names. */
export function spreadsheetHeader(columns: string[], format: SpreadsheetFormat = {}): string {
  return `${format.bom === false ? '' : '\uFEFF'}${spreadsheetLines([columns], format)}`;
}
