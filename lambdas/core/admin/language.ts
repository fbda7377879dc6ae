import { acceptedLanguage, type PublicRequest, type PublicResponse, plain } from '../public/http.ts';
import { type Language, languages } from '../publication/schema.ts';
import { parseCookies, setCookie } from './session.ts';

/**
 * The admin's language: the one chosen with the switch in every page's header (a cookie),
 * else the one the browser asks for (`Accept-Language`), else the workspace's. The switch is
 * a link, `/admin/language?lang=en&back=/admin/releases`: it holds nothing of the workspace,
 * so it answers without sign-in (the sign-in form has it too), and changes nothing but the
 * cookie.
 */

export const languageCookie = 'pressroom_admin_lang';

/** How long the choice is kept: a year. */
const languageSeconds = 365 * 24 * 3600;

const isLanguage = (value: string | undefined): value is Language =>
  (languages as readonly string[]).includes(value ?? '');

/** The interface's language for a request. */
export function chosenLanguage(headers: PublicRequest['headers'], fallback: Language): Language {
  const chosen = parseCookies(headers.cookie)[languageCookie];
  return isLanguage(chosen) ? chosen : (acceptedLanguage(headers['accept-language']) ?? fallback);
}

/** Where the switch goes back to: a page of the admin only (never another site), else the list. */
function backTo(back: string | undefined): string {
  const safe =
    back !== undefined &&
    /^\/admin(?:\/[A-Za-z0-9._~-]+)*\/?$/.test(back) &&
    !back.split('/').some((segment) => segment === '.' || segment === '..');
  return safe ? back : '/admin/releases';
}

/** `GET /admin/language?lang=fr&back=/admin/…`: keeps the choice in a cookie, then goes back. */
export function answerLanguage(
  request: PublicRequest,
  secure: boolean,
  headers: Record<string, string>,
): PublicResponse {
  const lang = request.query?.lang;
  if (!isLanguage(lang))
    return plain(
      400,
      `lang must be one of ${languages.join(', ')}: follow the language link of a page\n`,
      headers,
    );
  const location = backTo(request.query?.back);
  return plain(303, `See ${location}\n`, {
    ...headers,
    location,
    'set-cookie': setCookie(languageCookie, lang, { maxAgeSeconds: languageSeconds, secure }),
  });
}
