/**
 * What each path of the press room is served with (lambdas/core/public/site-headers.ts), the
 * same for `pressroom serve`, `site build` (_headers) and S3: pages carry the policy, PDFs
 * none (a release's own saves as `<slug>.pdf`), published files that are not PDF, images or text download under a sandbox. The
 * templates' <meta> policy is the header's, less what only a header can say.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { headersFile } from '../../lambdas/core/archive/static-site.ts';
import {
  fileContentSecurityPolicy,
  isPublishedFile,
  mediaTypeOf,
  opensInBrowser,
  pageContentSecurityPolicy,
  releasePdfName,
  servedFile,
} from '../../lambdas/core/public/site-headers.ts';
import { repo } from '../support/cli.ts';

const release = 'releases/etude-2024/';

describe('servedFile', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['2024/index.html', 'text/html; charset=utf-8'],
    ['tags/open-data/index.html', 'text/html; charset=utf-8'],
    [`${release}index.html`, 'text/html; charset=utf-8'],
    [`${release}email.html`, 'text/html; charset=utf-8'],
    ['newsletters/index.html', 'text/html; charset=utf-8'],
    ['newsletters/2024-03-lettre/index.html', 'text/html; charset=utf-8'],
  ])('gives the page %s its type and the page policy, inline', (sitePath, type) => {
    const served = servedFile(sitePath);
    expect(served).toEqual({
      contentType: type,
      headers: {
        'Content-Type': type,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'SAMEORIGIN',
        'Content-Security-Policy': pageContentSecurityPolicy,
      },
    });
  });

  it.each([
    ['feed.xml', 'application/rss+xml; charset=utf-8'],
    ['atom.xml', 'application/atom+xml; charset=utf-8'],
    ['feed.json', 'application/feed+json; charset=utf-8'],
    ['newsletters/feed.xml', 'application/rss+xml; charset=utf-8'],
    ['sitemap.xml', 'application/xml'],
    [`${release}release.txt`, 'text/plain; charset=utf-8'],
    [`${release}files/rapport.pdf`, 'application/pdf'],
    [`${release}files/photos/une.JPG`, 'image/jpeg'],
    [`${release}files/carte.png`, 'image/png'],
    [`${release}files/notes.txt`, 'text/plain; charset=utf-8'],
  ])('serves %s inline as %s, without a policy that would stop a viewer', (sitePath, type) => {
    const served = servedFile(sitePath);
    expect(served.contentType).toBe(type);
    expect(served.disposition).toBeUndefined();
    expect(served.headers['X-Content-Type-Options']).toBe('nosniff');
    expect(served.headers['Content-Disposition']).toBeUndefined();
    expect(served.headers['Content-Security-Policy']).toBeUndefined();
  });

  it('serves a release’s PDF inline, saved as <slug>.pdf, without a policy', () => {
    const served = servedFile(`${release}release.pdf`);
    expect(served.contentType).toBe('application/pdf');
    expect(served.disposition).toBeUndefined();
    expect(served.headers['Content-Disposition']).toBe(
      `inline; filename="etude-2024.pdf"; filename*=UTF-8''etude-2024.pdf`,
    );
    expect(served.headers['Content-Security-Policy']).toBeUndefined();
    expect(releasePdfName(`${release}release.pdf`)).toBe('etude-2024.pdf');
    // Only the release's own PDF: an attachment keeps its name, a newsletter has no such file.
    expect(releasePdfName(`${release}files/release.pdf`)).toBeUndefined();
    expect(releasePdfName('newsletters/2024-03/release.pdf')).toBeUndefined();
    expect(servedFile(`${release}files/release.pdf`).headers['Content-Disposition']).toBeUndefined();
  });

  it.each([
    [`${release}files/page.html`, 'text/html; charset=utf-8'],
    [`${release}files/piege.HTM`, 'text/html; charset=utf-8'],
    [`${release}files/logo.svg`, 'image/svg+xml'],
    // A script as bytes: under nosniff no page can run it (the pages allow the site's own scripts).
    [`${release}files/script.js`, 'application/octet-stream'],
    [`${release}files/LISEZMOI`, 'application/octet-stream'],
    [`${release}files/.htaccess`, 'application/octet-stream'],
    [`${release}files/tableau.xlsx`, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['newsletters/2024-03-lettre/files/x.html', 'text/html; charset=utf-8'],
  ])('makes the published file %s download, under a sandbox', (sitePath, type) => {
    expect(servedFile(sitePath)).toEqual({
      contentType: type,
      disposition: 'attachment',
      headers: {
        'Content-Type': type,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'SAMEORIGIN',
        'Content-Security-Policy': fileContentSecurityPolicy,
        'Content-Disposition': 'attachment',
      },
    });
  });

  it('tells published files from pages by their folder only', () => {
    expect(isPublishedFile(`${release}files/a.html`)).toBe(true);
    expect(isPublishedFile(`${release}email.html`)).toBe(false);
    expect(isPublishedFile('files/a.html')).toBe(false);
    expect(isPublishedFile('releases/files/a.html')).toBe(false);
    expect(opensInBrowser('image/svg+xml')).toBe(false);
    expect(opensInBrowser('IMAGE/PNG')).toBe(true);
    expect(opensInBrowser('text/plain; charset=utf-8')).toBe(true);
    expect(opensInBrowser('text/html; charset=utf-8')).toBe(false);
    expect(mediaTypeOf('archive/x/v/files/.pdf')).toBe('application/octet-stream');
  });
});

describe('the policy in the pages', () => {
  /** The header's policy without frame-ancestors, which a <meta> tag cannot carry. */
  const metaPolicy = pageContentSecurityPolicy
    .split('; ')
    .filter((d) => !d.startsWith('frame-ancestors'))
    .join('; ');

  it.each([
    'templates/press-room/list.html.hbs',
    'templates/press-release/page.html.hbs',
    'templates/newsletter/page.html.hbs',
  ])('%s carries the header policy in its <meta> tag, frame-ancestors aside', async (template) => {
    const text = await readFile(path.join(repo, template), 'utf8');
    const metas = [...text.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/g)];
    expect(metas.map((m) => m[1])).toEqual([metaPolicy]);
    expect(pageContentSecurityPolicy).toContain("frame-ancestors 'self'");
  });
});

describe('_headers', () => {
  it('asks static hosts for nosniff everywhere and downloads under a sandbox for published files', () => {
    const rules = headersFile()
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(rules).toEqual([
      '/*',
      '  X-Content-Type-Options: nosniff',
      '  Referrer-Policy: no-referrer',
      '  X-Frame-Options: SAMEORIGIN',
      '/releases/*/files/*',
      '  Content-Disposition: attachment',
      `  Content-Security-Policy: ${fileContentSecurityPolicy}`,
      '/newsletters/*/files/*',
      '  Content-Disposition: attachment',
      `  Content-Security-Policy: ${fileContentSecurityPolicy}`,
    ]);
  });

  it('names each release’s PDF <slug>.pdf, one rule per PDF', () => {
    const rules = headersFile([`${release}release.pdf`, 'releases/autre/release.pdf']).split('\n');
    expect(rules.slice(rules.indexOf(`/${release}release.pdf`))).toEqual([
      `/${release}release.pdf`,
      `  Content-Disposition: inline; filename="etude-2024.pdf"; filename*=UTF-8''etude-2024.pdf`,
      '/releases/autre/release.pdf',
      `  Content-Disposition: inline; filename="autre.pdf"; filename*=UTF-8''autre.pdf`,
      '',
    ]);
  });
});
