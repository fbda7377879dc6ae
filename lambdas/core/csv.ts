/**
 * A cell that a spreadsheet would run as a formula (=, +, -, @, or a tab/CR first) is
 * prefixed with an apostrophe, which spreadsheets show as text (CSV injection).
 */
export function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
