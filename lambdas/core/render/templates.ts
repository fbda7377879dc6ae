import type { Language } from '../publication/schema.ts';
import type { LocaleStrings } from './locale.ts';
import type { RecipientFields } from './recipient.ts';

/**
 * The template files a renderer works from, read by an adapter (from `templates/` on disk,
 * or bundled into a function). The core never reads files itself.
 */
export interface TemplateSet {
  pressRelease: {
    /** MJML + Handlebars: the HTML email. */
    email: string;
    /** Handlebars: the plain-text part of the email. */
    text: string;
    /** Handlebars: the standalone web page. */
    page: string;
  };
  /** The newsletter issue: same three files as the press release, same partials. */
  newsletter: {
    email: string;
    text: string;
    page: string;
  };
  /**
   * Handlebars: the one page layout of the public endpoint (unsubscribe, subscribe, confirm),
   * and the proof page of a campaign (`/proof/<token>`).
   */
  pages: { public: string; proof: string };
  /** Handlebars: the subscription confirmation email, HTML and plain text. */
  subscription: { email: string; text: string };
  /**
   * Handlebars: the press room's list pages (home, year, tag). `search`: the browser side of
   * its search (lambdas/core/archive/search.ts), served as one script: MiniSearch's browser
   * build (`library`) and the search box's code (`script`).
   */
  pressRoom: { list: string; search: { library: string; script: string } };
  /** Handlebars partials by name, e.g. `header` for `templates/partials/header.mjml`. */
  partials: Record<string, string>;
  /** Fixed strings by language. */
  locales: Record<Language, LocaleStrings>;
  /** The recipient that fills previews. */
  sampleRecipient: RecipientFields;
}
