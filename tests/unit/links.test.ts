import { describe, expect, it } from 'vitest';
import {
  checkPublicUrls,
  emailLinks,
  privateHostReason,
  publicUrlProblem,
  UnreachableLinkError,
} from '../../lambdas/core/campaigns/links.ts';

describe('links a real message may carry', () => {
  const refused: [string, RegExp][] = [
    ['http://press.example.org', /not https/],
    ['https://localhost:3000', /local name/],
    ['https://preview.localhost', /local name/],
    ['https://nas.local', /local name/],
    ['https://press.corp.internal', /local name/],
    ['https://intranet', /local name/],
    ['https://127.0.0.1', /loopback/],
    ['https://127.8.9.10', /loopback/],
    ['https://10.1.2.3', /RFC 1918/],
    ['https://172.16.0.1', /RFC 1918/],
    ['https://172.31.255.254', /RFC 1918/],
    ['https://192.168.0.10', /RFC 1918/],
    ['https://169.254.169.254', /link-local/],
    ['https://100.64.0.1', /carrier-grade NAT/],
    ['https://100.127.255.1', /carrier-grade NAT/],
    ['https://0.0.0.0', /not an address/],
    ['https://[::1]', /loopback/],
    ['https://[fc00::1]', /fc00::\/7/],
    ['https://[fd12:3456::1]', /fc00::\/7/],
    ['https://[fe80::1]', /fe80::\/10/],
    ['https://[::ffff:192.168.1.1]', /RFC 1918/],
    ['not a url', /not an absolute URL/],
  ];
  for (const [url, reason] of refused) {
    it(`refuses ${url}`, () => {
      expect(publicUrlProblem(url)).toMatch(reason);
    });
  }

  it('accepts https addresses on the internet, including neighbours of the private ranges', () => {
    for (const url of [
      'https://presse.example.org',
      'https://abc.lambda-url.eu-west-3.on.aws/',
      'https://172.32.0.1',
      'https://100.128.0.1',
      'https://192.169.0.1',
      'https://[2001:db8::1]',
      'https://local.example.org',
    ]) {
      expect(publicUrlProblem(url), url).toBeUndefined();
    }
    expect(privateHostReason('presse.example.org')).toBeUndefined();
  });

  it('names each bad variable, with an example, in one message', () => {
    const error = (() => {
      try {
        checkPublicUrls({
          PRESSROOM_PUBLIC_URL: 'http://localhost:3000',
          PRESSROOM_SITE_URL: 'https://presse.example.org/',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnreachableLinkError);
    expect((error as Error).message).toContain('PRESSROOM_PUBLIC_URL is http://localhost:3000');
    expect((error as Error).message).toContain('e.g. PRESSROOM_PUBLIC_URL=https://presse.example.org');
    expect((error as Error).message).not.toContain('PRESSROOM_SITE_URL is');
  });

  it('finds the absolute links of an email, placeholders aside', () => {
    expect(
      emailLinks(
        `<a href="https://presse.example.org/releases/a/">x</a><img src='http://localhost:3000/f.png'><a href="{{unsubscribeUrl}}">u</a><a href="mailto:x@example.org">m</a><a href="https://e.example.org/?a=1&amp;b=2">q</a>`,
      ),
    ).toEqual([
      'https://presse.example.org/releases/a/',
      'http://localhost:3000/f.png',
      'https://e.example.org/?a=1&b=2',
    ]);
  });
});
