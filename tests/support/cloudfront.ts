/**
 * CloudFront's path patterns, as a behaviour matches a request: `*` any characters (`/`
 * included), `?` one; the pattern's leading `/` is optional.
 */
export function pathMatches(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/^\//, '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(path.replace(/^\//, ''));
}
