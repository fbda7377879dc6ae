import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkKey } from '../core/store/object-store.ts';

/** Path of signed downloads on the local server. */
export const signedDownloadPath = '/_signed/';

/** Path of email previews on the local server: `/_preview/<slug>?expires=…&token=…`. */
export const previewPath = '/_preview/';

export type SignedDownloadCheck =
  | { ok: true; key: string; downloadName?: string }
  | { ok: false; reason: string };

/**
 * Signed download links for the stores that are not S3 (the folder, memory): an HMAC of the
 * key, the expiry and the download name, checked by the local server as S3 checks its
 * presigned URLs.
 */
export class DownloadSigner {
  constructor(
    private readonly secret: string,
    private readonly publicUrl: string,
    private readonly now: () => Date,
  ) {}

  sign(key: string, options: { expiresInSeconds: number; downloadName?: string }): string {
    checkKey(key);
    const expires = Math.floor(this.now().getTime() / 1000) + options.expiresInSeconds;
    const name = options.downloadName ?? '';
    const url = new URL(
      signedDownloadPath + key.split('/').map(encodeURIComponent).join('/'),
      this.publicUrl,
    );
    url.searchParams.set('expires', String(expires));
    if (name) url.searchParams.set('name', name);
    url.searchParams.set('signature', this.signature(key, expires, name));
    return url.toString();
  }

  /** Checks a link's path and query, whatever its host. */
  verify(pathAndQuery: string): SignedDownloadCheck {
    const url = new URL(pathAndQuery, 'http://local');
    if (!url.pathname.startsWith(signedDownloadPath)) return { ok: false, reason: 'not a signed download' };
    let key: string;
    try {
      key = url.pathname.slice(signedDownloadPath.length).split('/').map(decodeURIComponent).join('/');
      checkKey(key);
    } catch {
      return { ok: false, reason: 'malformed key' };
    }
    const expires = Number(url.searchParams.get('expires'));
    const name = url.searchParams.get('name') ?? '';
    const given = Buffer.from(url.searchParams.get('signature') ?? '', 'utf8');
    const expected = Buffer.from(this.signature(key, expires, name), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'signature does not match' };
    }
    if (!Number.isFinite(expires) || expires * 1000 < this.now().getTime()) {
      return { ok: false, reason: 'the link has expired' };
    }
    return { ok: true, key, ...(name && { downloadName: name }) };
  }

  private signature(key: string, expires: number, downloadName: string): string {
    return createHmac('sha256', this.secret)
      .update(`pressroom-download\n${key}\n${expires}\n${downloadName}`)
      .digest('base64url');
  }
}

/**
 * Links to the email preview of a release on the local server: an HMAC of the slug and the
 * expiry, from the signing secret, so that a preview URL opens one release for a while and
 * cannot be guessed or altered. The server answers them from this machine only.
 */
export class PreviewSigner {
  constructor(
    private readonly secret: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The preview of `slug` on the server at `origin` (`http://127.0.0.1:3000`). */
  link(origin: string, slug: string, expiresInSeconds: number): string {
    const expires = Math.floor(this.now().getTime() / 1000) + expiresInSeconds;
    const url = new URL(previewPath + encodeURIComponent(slug), origin);
    url.searchParams.set('expires', String(expires));
    url.searchParams.set('token', this.token(slug, expires));
    return url.toString();
  }

  /** Whether the query of a preview request carries a valid, unexpired token for `slug`. */
  verify(slug: string, query: URLSearchParams): boolean {
    const expires = Number(query.get('expires'));
    const given = Buffer.from(query.get('token') ?? '', 'utf8');
    const expected = Buffer.from(this.token(slug, expires), 'utf8');
    return (
      given.length === expected.length &&
      timingSafeEqual(given, expected) &&
      Number.isFinite(expires) &&
      expires * 1000 >= this.now().getTime()
    );
  }

  private token(slug: string, expires: number): string {
    return createHmac('sha256', this.secret)
      .update(`pressroom-preview\n${slug}\n${expires}`)
      .digest('base64url');
  }
}
