import Handlebars from 'handlebars';
import type { Language } from '../publication/schema.ts';
import {
  capitalize,
  compileMjml,
  excerpt,
  guardBraces,
  personalBits,
  preheaderPadding,
  publishersView,
  tidyText,
} from '../render/document.ts';
import { formatDate, frenchFirst, type LocaleStrings } from '../render/locale.ts';
import { htmlToText, inlineMarkdownToHtml, markdownToHtml } from '../render/markdown.ts';
import type { EmailDocument } from '../render/recipient.ts';
import type { TemplateSet } from '../render/templates.ts';
import { typesetHtml, typesetText } from '../render/typography.ts';
import { releaseSitePath } from './resolve.ts';
import type { ResolvedIssue } from './schema.ts';

/**
 * The document stage of a newsletter issue, as for a release (`render/document.ts`): once
 * per issue, data + `templates/newsletter/*` (with the release's partials) → Handlebars →
 * MJML → an HTML email that still holds the recipient placeholders, the plain text and the
 * web page. Sending fills the placeholders per recipient with `render/recipient.ts`.
 */

export interface IssueRenderOptions {
  /** Absolute URL of the issue's web page, for the "view online" link. Omitted: no link. */
  webUrl?: string;
  /** On the press room's page of the issue: the ways back and the downloads. */
  pressRoom?: {
    indexUrl: string;
    newslettersUrl: string;
    /** The way from the issue's page to the site's top, e.g. "../../": release links are relative there. */
    siteRoot: string;
    downloads: { label: string; url: string; download?: boolean }[];
  };
}

export interface RenderedIssue {
  subject: string;
  /** HTML and text parts of the email, recipient placeholders still in. */
  email: EmailDocument;
  /** The standalone web page: no placeholders. */
  page: string;
}

export interface NewsletterRenderer {
  render(issue: ResolvedIssue, options?: IssueRenderOptions): Promise<RenderedIssue>;
  /** The web page alone (no MJML): for the press room's copy with navigation. */
  renderPage(issue: ResolvedIssue, options?: IssueRenderOptions): string;
}

/** Compiles the templates once; `render` then costs one Handlebars fill and one MJML compile. */
export function createNewsletterRenderer(templates: TemplateSet): NewsletterRenderer {
  const stage1 = Handlebars.create();
  for (const [name, source] of Object.entries(templates.partials)) stage1.registerPartial(name, source);
  const options = { preventIndent: true } as const;
  const email = stage1.compile(templates.newsletter.email, options);
  const text = stage1.compile(templates.newsletter.text, { ...options, noEscape: true });
  const page = stage1.compile(templates.newsletter.page, options);

  return {
    async render(issue, renderOptions = {}) {
      const t = templates.locales[issue.lang];
      const view = issueView(issue, t, renderOptions);
      const html = await compileMjml(
        email({ ...view, ...personalBits(t, 'html', t.newsletterReceivedAs) }),
        'newsletter',
      );
      const lang = issue.lang;
      return {
        subject: typesetText(issue.title, lang),
        email: {
          html: typesetHtml(html, lang),
          text: typesetText(
            tidyText(text({ ...view, ...personalBits(t, 'text', t.newsletterReceivedAs) })),
            lang,
          ),
        },
        page: typesetHtml(page(view), lang),
      };
    },
    renderPage(issue, renderOptions = {}) {
      return typesetHtml(page(issueView(issue, templates.locales[issue.lang], renderOptions)), issue.lang);
    },
  };
}

function issueView(issue: ResolvedIssue, t: LocaleStrings, options: IssueRenderOptions) {
  // Typeset before the text versions are wrapped, so no line starts with a lone "?".
  const introHtml = typesetHtml(markdownToHtml(issue.intro), issue.lang);
  const introText = htmlToText(introHtml);
  const bodyHtml = issue.body ? typesetHtml(markdownToHtml(issue.body), issue.lang) : '';
  const root = options.pressRoom?.siteRoot;
  return guardBraces({
    lang: issue.lang,
    t,
    title: issue.title,
    titleUnderlined: `${issue.title}\n${'='.repeat(Math.min(issue.title.length, 76))}`,
    date: issue.date,
    dateLine: capitalize(formatDate(issue.date, issue.lang)),
    preview: excerpt(introText, 150),
    preheader: excerpt(introText, 105),
    preheaderPadding,
    // The issue greets once: when its intro opens with a greeting of its own, the personal one is left out.
    greets: !opensWithGreeting(introText),
    introHtml,
    introText,
    bodyHtml,
    bodyText: bodyHtml ? htmlToText(bodyHtml) : '',
    items: issue.items.map((item) => {
      const summaryHtml =
        item.summary !== undefined ? typesetHtml(inlineMarkdownToHtml(item.summary), issue.lang) : '';
      return {
        title: item.title,
        // In the press room, a release is linked relatively, so the site also works from a folder.
        url: root !== undefined && item.release ? root + releaseSitePath(item.release.slug) : item.url,
        image: item.image,
        dateText: item.release ? capitalize(formatDate(item.release.date, issue.lang)) : undefined,
        summaryHtml,
        summaryText: summaryHtml ? htmlToText(`<p>${summaryHtml}</p>`) : '',
      };
    }),
    events: issue.events.map((e) => ({
      title: e.title,
      dateText: formatEventDate(e.date, issue.lang),
      place: e.place,
      url: e.url,
    })),
    ...publishersView(issue.publishers, t, issue.lang),
    webUrl: options.webUrl,
    pressRoom: options.pressRoom,
  });
}

const wallClock = {
  fr: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }),
};

/** `2024-03-21` → `Jeudi 21 mars 2024`; `2024-03-21T18:30` → `Jeudi 21 mars 2024 à 18:30`, as written. */
export function formatEventDate(value: string, lang: Language): string {
  const [day, time] = value.split('T');
  if (!time || !day) return capitalize(formatDate(value, lang));
  const [y, m, d] = day.split('-').map(Number);
  const [h, min] = time.split(':').map(Number);
  const date = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, h ?? 0, min ?? 0));
  return capitalize(frenchFirst(wallClock[lang].format(date).replace(',', ''), lang));
}

/** Whether a text starts by greeting its readers ("Bonjour à toutes et à tous.", "Dear members,"). */
export function opensWithGreeting(text: string): boolean {
  return /^\s*(?:bonjour|bonsoir|salut|cher|chère|chers|chères|hello|hi|dear|good (?:morning|afternoon|evening))(?=[\s,.!]|$)/iu.test(
    text,
  );
}
