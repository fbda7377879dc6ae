import { isIP } from 'node:net';
import { PressroomError } from '../errors.ts';

/**
 * Real mail carries links that work for whoever reads it: before a send through SMTP or SES,
 * the unsubscribe base (PRESSROOM_PUBLIC_URL), the press room's address (PRESSROOM_SITE_URL)
 * and every link already in the archived email must be https addresses on the internet, not
 * this machine nor a private network. The outbox and `--test-to` need none of it.
 */

/** A send refused before any message left: a link would not work for recipients. */
export class UnreachableLinkError extends PressroomError {
  override name = 'UnreachableLinkError';
}

/** Names that only resolve on this machine or a private network (RFC 6761, RFC 6762, and common use). */
const privateName = /^(localhost|.*\.localhost|.*\.local|.*\.internal|.*\.lan|.*\.home\.arpa)$/i;

/** Why `host` cannot be reached from the internet, or undefined. */
export function privateHostReason(host: string): string | undefined {
  const name = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (privateName.test(name) || (!name.includes('.') && isIP(name) === 0)) return `${name} is a local name`;
  const v4 = isIP(name) === 4 ? name : mappedV4(name);
  if (v4) {
    const [a = 0, b = 0] = v4.split('.').map(Number);
    if (a === 127) return `${v4} is this machine (loopback)`;
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))
      return `${v4} is a private address (RFC 1918)`;
    if (a === 169 && b === 254) return `${v4} is a link-local address`;
    if (a === 100 && b >= 64 && b <= 127) return `${v4} is a carrier-grade NAT address`;
    if (a === 0) return `${v4} is not an address anyone can reach`;
    return undefined;
  }
  if (isIP(name) === 6) {
    if (name === '::1' || name === '::') return `${name} is this machine (loopback)`;
    const first = Number.parseInt(name.split(':')[0] || '0', 16);
    if ((first & 0xfe00) === 0xfc00) return `${name} is a private address (fc00::/7)`;
    if ((first & 0xffc0) === 0xfe80) return `${name} is a link-local address (fe80::/10)`;
  }
  return undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (`::ffff:10.0.0.1`, or as URL writes it, `::ffff:a00:1`). */
function mappedV4(name: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(name)?.[1];
  if (dotted) return dotted;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(name);
  if (!hex) return undefined;
  const [high, low] = [Number.parseInt(hex[1] ?? '0', 16), Number.parseInt(hex[2] ?? '0', 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Why `url` would not work in a real message (not https, or not on the internet), or undefined. */
export function publicUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not an absolute URL';
  }
  const host = privateHostReason(parsed.hostname);
  if (host) return `${host}: recipients cannot open it`;
  if (parsed.protocol !== 'https:') return 'it is not https';
  return undefined;
}

const examples: Record<string, string> = {
  PRESSROOM_PUBLIC_URL: 'https://presse.example.org',
  PRESSROOM_SITE_URL: 'https://presse.example.org/',
};

/**
 * Refuses a real send whose configured addresses (by variable name) would give recipients
 * dead or insecure links. Throws UnreachableLinkError naming each and showing an example.
 */
export function checkPublicUrls(urls: Record<string, string | undefined>): void {
  const problems = Object.entries(urls).flatMap(([name, value]) => {
    if (value === undefined) return [];
    const problem = publicUrlProblem(value);
    return problem
      ? [
          `${name} is ${value} (${problem}): set it to your public address, e.g. ${name}=${examples[name] ?? 'https://presse.example.org'}`,
        ]
      : [];
  });
  if (problems.length > 0) {
    throw new UnreachableLinkError(
      `nothing was sent: real mail needs links that work for every recipient. ${problems.join('; ')}. The outbox (PRESSROOM_MAILER=outbox) and --test-to work without it.`,
    );
  }
}

/** The absolute http(s) links (href, src) of an email's HTML, placeholders left aside. */
export function emailLinks(html: string): string[] {
  const out = new Set<string>();
  for (const match of html.matchAll(/\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
    const value = (match[1] ?? match[2] ?? '').replace(/&amp;/g, '&').trim();
    if (/^https?:\/\//i.test(value) && !value.includes('{{')) out.add(value);
  }
  return [...out];
}

/**
 * Refuses a real send of an email whose links point at this machine or a private network:
 * it was published with such a PRESSROOM_SITE_URL (or its text links to one).
 */
export function checkEmailLinks(what: string, links: readonly string[]): void {
  const dead = links.flatMap((link) => {
    const host = privateHostReason(new URL(link).hostname);
    return host ? [{ link, host }] : [];
  });
  const first = dead[0];
  if (!first) return;
  throw new UnreachableLinkError(
    `nothing was sent: the email of "${what}" links to ${first.link} (${first.host}${dead.length > 1 ? `, and ${dead.length - 1} more link(s) like it` : ''}), which no recipient can open. It was published with PRESSROOM_SITE_URL pointing there: publish it again with your public address (e.g. PRESSROOM_SITE_URL=https://presse.example.org/), then send.`,
  );
}
