/**
 * An address, bare or URL-encoded (`%40`, `%C3%A9`): a local part of RFC 5322 atext (letters
 * in any script) without `/`, `?` and `&` (so that paths such as `node_modules/@aws-sdk/...` and query strings are
 * left alone), then a domain of letters in any script, digits, `.`, `-` and `%XX`.
 */
const domainChar = String.raw`(?:[\p{L}\p{N}-]|%[0-9a-f]{2})`;
const addressPattern = new RegExp(
  String.raw`[\p{L}\p{N}_.!#$%'*+=^\x60{|}~-]+(?:@|%40)${domainChar}+(?:\.${domainChar}+)*`,
  'giu',
);

/**
 * The text with every email address replaced by `[address]`: for log lines and error
 * messages that may quote data (a bounce's diagnostic, a validation problem's value).
 */
export function redactEmailAddresses(text: string): string {
  return text.replace(addressPattern, '[address]');
}

/**
 * A request's path as a log line may hold it: each segment with an `@` (bare or `%40`) is
 * `[redacted]` whole, so no address, whole or in part, reaches the log. The local server and
 * the admin function log paths through this.
 */
export function redactPathSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => (/@|%40/i.test(segment) ? '[redacted]' : segment))
    .join('/');
}
