import Handlebars from 'handlebars';
import type { ShareMeta } from '../archive/share.ts';
import { TemplateError } from '../errors.ts';
import type { Language, ProcessedPressImage, Publication, Publisher } from '../publication/schema.ts';
import { socialProfile } from '../publication/social.ts';
import {
  fillPattern,
  formatDate,
  formatDateTime,
  formatSize,
  joinNames,
  type LocaleStrings,
} from './locale.ts';
import { htmlToText, inlineMarkdownToHtml, markdownToHtml } from './markdown.ts';
import type { EmailDocument } from './recipient.ts';
import type { TemplateSet } from './templates.ts';
import { frenchOf, typesetHtml, typesetText } from './typography.ts';

/**
 * The document stage: once per release, publication data + templates → Handlebars → MJML →
 * HTML email that still holds the recipient placeholders, plus the plain text and the web
 * page. MJML is loaded on first use only, so modules that import this file for its types
 * or for the recipient stage never pay for it.
 */

/** The part of MJML 5's API we use (its published types still describe MJML 4's sync API). */
type Mjml2Html = (
  mjml: string,
  options: {
    validationLevel: 'strict';
    ignoreIncludes: boolean;
    keepComments: boolean;
    fonts: Record<string, string>;
  },
) => Promise<{ html: string; errors: { formattedMessage: string }[] }>;
let mjmlPromise: Promise<Mjml2Html> | undefined;

/** Loads the MJML compiler (about half a second, once per process). */
export function loadMjml(): Promise<Mjml2Html> {
  mjmlPromise ??= import('mjml').then((m) => m.default as unknown as Mjml2Html);
  return mjmlPromise;
}

/** Where the release's own files will be reachable from a reader's mail client or browser. */
export interface RenderOptions {
  /** URL (absolute, or relative to the page) under which attachments are served, ending in "/". Default `files/`. */
  filesUrl?: string;
  /**
   * Absolute URL under which the body's images are served, ending in "/" (the release's
   * `files/` in the press room); default `filesUrl` when that is absolute. Emails and pages
   * are read anywhere, so images never get a relative URL: without an absolute one they are left out.
   */
  imagesUrl?: string;
  /**
   * Absolute URL of the release's folder in the press room, ending in "/": the press kit
   * images' web sizes and thumbnails are under its `images/`. Omitted: no gallery, no lead image.
   */
  releaseUrl?: string;
  /** Absolute URL of the release's web page, for the "view online" link. Omitted: no link. */
  webUrl?: string;
  /** Absolute URL of the release's PDF, when it has one (the press room's copy). Omitted: no link. */
  pdfUrl?: string;
  /** The press room's page of a tag (absolute URL). Omitted: tags are shown without links. */
  tagUrl?: (tag: string) => string;
  /** On the press room's page of the release: the way back, the search box and the downloads. */
  pressRoom?: {
    indexUrl: string;
    /** The search box (templates/partials/search-box.hbs): the search page, the site's top, the script. */
    search?: { action: string; root: string; script: string };
    downloads: { label: string; url: string; detail?: string; download?: boolean; downloadName?: string }[];
  };
  /** On the press room's page of the release: canonical address, link previews, JSON-LD (templates/partials/share-meta.hbs). */
  share?: ShareMeta;
  /** On the press room's page of the release: the articles that cite it, newest first (templates/partials/coverage.hbs). */
  coverage?: readonly { url: string; outlet: string; date: string; title?: string; language?: string }[];
}

/** A release rendered once, for every recipient. */
export interface RenderedRelease {
  subject: string;
  /** HTML and text parts of the email, recipient placeholders still in. */
  email: EmailDocument;
  /** The standalone web page: no placeholders. */
  page: string;
}

export interface ReleaseRenderer {
  render(publication: Publication, options?: RenderOptions): Promise<RenderedRelease>;
  /** The web page alone (no MJML): for the press room's copy with navigation and downloads. */
  renderPage(publication: Publication, options?: RenderOptions): string;
}

const defaultAccent = '#0b5fa5';

/** Compiles the templates once; `render` then costs one Handlebars fill and one MJML compile. */
export function createReleaseRenderer(templates: TemplateSet): ReleaseRenderer {
  const stage1 = Handlebars.create();
  for (const [name, source] of Object.entries(templates.partials)) stage1.registerPartial(name, source);
  const options = { preventIndent: true } as const;
  const email = stage1.compile(templates.pressRelease.email, options);
  const text = stage1.compile(templates.pressRelease.text, { ...options, noEscape: true });
  const page = stage1.compile(templates.pressRelease.page, options);

  return {
    async render(publication, renderOptions = {}) {
      const t = templates.locales[publication.lang];
      const view = releaseView(publication, t, renderOptions);
      const lang = publication.lang;
      const html = await compileMjml(email({ ...view, ...personalBits(t, 'html') }), 'press-release');
      return {
        subject: typesetText(publication.title, lang),
        email: {
          html: typesetHtml(html, lang),
          text: typesetText(tidyText(text({ ...view, ...personalBits(t, 'text') })), lang),
        },
        page: typesetHtml(page(view), lang),
      };
    },
    renderPage(publication, renderOptions = {}) {
      const view = releaseView(publication, templates.locales[publication.lang], renderOptions);
      return typesetHtml(page(view), publication.lang);
    },
  };
}

/**
 * Compiles filled MJML into HTML (strict validation). A template error is a TemplateError
 * that names the template: a bug in `templates/`, not in the data.
 */
export async function compileMjml(mjml: string, templateName: string): Promise<string> {
  const mjml2html = await loadMjml();
  let result: Awaited<ReturnType<Mjml2Html>>;
  try {
    result = await mjml2html(mjml, {
      validationLevel: 'strict',
      ignoreIncludes: true,
      keepComments: false,
      fonts: {},
    });
  } catch (error) {
    throw new TemplateError(`MJML rejected the ${templateName} template: ${describeMjmlError(error)}`, {
      cause: error,
    });
  }
  if (result.errors.length > 0) {
    throw new TemplateError(
      `MJML found ${result.errors.length} problem(s) in the ${templateName} template: ${result.errors.map((e) => e.formattedMessage).join('; ')}`,
    );
  }
  return result.html;
}

function describeMjmlError(error: unknown): string {
  const details = (error as { errors?: { formattedMessage?: string }[] }).errors;
  if (Array.isArray(details)) return details.map((d) => d.formattedMessage).join('; ');
  return error instanceof Error ? error.message : String(error);
}

const htmlEscape = Handlebars.Utils.escapeExpression;

/**
 * The greeting and the footer line hold recipient placeholders for stage 2. They are built
 * here, after the data was guarded, from locale patterns: `Bonjour {firstName},`.
 * `receivedAs` is the footer's pattern (a release's by default; a newsletter has its own).
 */
export function personalBits(t: LocaleStrings, mode: 'html' | 'text', receivedAs = t.receivedAs) {
  const esc = mode === 'html' ? htmlEscape : (s: string) => s;
  const around = (pattern: string, name: string, placeholder: string) =>
    pattern
      .split(`{${name}}`)
      .map((part) => esc(part))
      .join(placeholder);
  return {
    greeting: `{{#if recipient.firstName}}${around(t.greeting, 'firstName', '{{recipient.firstName}}')}{{else}}${esc(t.greetingNoName)}{{/if}}`,
    receivedAs: around(receivedAs, 'fullName', '{{recipient.fullName}}'),
  };
}

/**
 * Data must never become template code in stage 2: a title containing "{{recipient.email}}"
 * is text. A word joiner (invisible) between two braces keeps Handlebars from seeing a tag.
 */
export function guardBraces<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\{(?=\{)/g, '{\u2060') as T;
  if (Array.isArray(value)) return value.map(guardBraces) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, guardBraces(v)])) as T;
  }
  return value;
}

/**
 * What the shared partials (header, about, footer) need to know about the publishers: the
 * accent colour (the first publisher's), each publisher's block, the names and addresses.
 */
export function publishersView(publishers: Publisher[], t: LocaleStrings, lang: Language) {
  const accentColor = legibleColor(publishers[0]?.color ?? defaultAccent);
  return {
    accentColor,
    publishers: publishers.map((p) => publisherView(p, t, lang, accentColor)),
    publisherNames: joinNames(
      publishers.map((p) => p.name),
      t.and,
    ),
    footerAddresses: publishers.flatMap((p) => (p.address ? [p.address.replace(/\s*\n\s*/g, ', ')] : [])),
  };
}

function releaseView(pub: Publication, t: LocaleStrings, options: RenderOptions) {
  const lang = pub.lang;
  const filesUrl = options.filesUrl ?? 'files/';
  // Typeset before the text versions are wrapped, so no line starts with a lone "?".
  const leadHtml = typesetHtml(inlineMarkdownToHtml(pub.lead), pub.lang);
  const bodyHtml = typesetHtml(
    markdownToHtml(pub.body, { imageUrl: releaseImageUrl(pub, options.imagesUrl ?? filesUrl) }),
    lang,
  );
  const date = formatDate(pub.date, pub.lang);
  const downloads = [
    ...pub.links.map((l) => ({ label: l.label, url: l.url, detail: undefined as string | undefined })),
    ...pub.attachments.map((a) => ({
      label: a.label,
      url: filesUrl + encodePath(a.file),
      detail: formatSize(a.size, pub.lang),
    })),
  ];
  const leadText = htmlToText(`<p>${leadHtml}</p>`);
  return guardBraces({
    lang: pub.lang,
    t,
    title: pub.title,
    titleUnderlined: `${pub.title}\n${'='.repeat(Math.min(pub.title.length, 76))}`,
    subtitle: pub.subtitle,
    date: pub.date,
    dateLine: pub.place ? fillPattern(t.dateLine, { place: pub.place, date }) : capitalize(date),
    embargoLine: pub.embargo
      ? fillPattern(t.embargoUntil, { date: formatDateTime(pub.embargo, pub.lang) })
      : undefined,
    preview: excerpt(leadText, 150),
    preheader: excerpt(leadText, 105),
    preheaderPadding,
    leadHtml,
    leadText,
    bodyHtml,
    bodyText: htmlToText(bodyHtml),
    ...publishersView(pub.publishers, t, pub.lang),
    figures: pub.figures,
    quotes: pub.quotes,
    downloads,
    // The email links to the PDF too; the page does not (it is what the PDF is printed from).
    emailDownloads: [
      ...(options.pdfUrl ? [{ label: t.pdf, url: options.pdfUrl, detail: undefined }] : []),
      ...downloads,
    ],
    byline: pub.author ? fillPattern(t.by, { author: pub.author }) : undefined,
    tags: pub.tags.map((name) => ({ name, url: options.tagUrl?.(name) })),
    webUrl: options.webUrl,
    pdfUrl: options.pdfUrl,
    pressRoom: options.pressRoom,
    share: options.share,
    coverage: options.coverage?.map((a) => ({
      url: a.url,
      outlet: a.outlet,
      title: a.title,
      date: a.date,
      dateText: formatDate(a.date, lang),
      // Marked only when the article is in another language than the page.
      lang: a.language !== undefined && a.language !== lang ? a.language : undefined,
    })),
    ...galleryView(pub, t, options.releaseUrl, filesUrl),
  });
}

/** A release's processed press kit images (none before the release is rendered). */
export function processedGallery(p: Pick<Publication, 'gallery'>): ProcessedPressImage[] {
  return (p.gallery ?? []).filter((i): i is ProcessedPressImage => 'web' in i);
}

const encodePath = (file: string) => file.split('/').map(encodeURIComponent).join('/');

/**
 * The press kit images as the page and the email show them: the gallery (thumbnail, web size,
 * the original to download with its format, dimensions and size) and the lead image (the
 * first one: the email's picture, and what sharing metadata may use). Images are named by
 * absolute URLs only, as the body's are; without `releaseUrl` there is neither.
 */
export function galleryView(
  pub: Pick<Publication, 'gallery' | 'lang'>,
  t: LocaleStrings,
  releaseUrl: string | undefined,
  filesUrl: string,
) {
  if (!releaseUrl || !/^https?:\/\//.test(releaseUrl)) return { gallery: [], leadImage: undefined };
  const gallery = processedGallery(pub).map((image) => ({
    alt: image.alt,
    caption: image.caption,
    credit: image.credit,
    licence: image.licence,
    hasCaption: image.caption !== undefined || image.credit !== undefined || image.licence !== undefined,
    thumbnailUrl: releaseUrl + encodePath(image.thumbnail.name),
    thumbnailWidth: image.thumbnail.width,
    thumbnailHeight: image.thumbnail.height,
    webUrl: releaseUrl + encodePath(image.web.name),
    webWidth: image.web.width,
    webHeight: image.web.height,
    originalUrl: filesUrl + encodePath(image.file),
    downloadName: image.file.split('/').at(-1),
    detail: `${image.format.toUpperCase()}, ${image.width} × ${image.height} px, ${formatSize(image.size, pub.lang)}`,
  }));
  const first = gallery[0];
  return {
    gallery,
    leadImage: first && {
      url: first.webUrl,
      width: first.webWidth,
      height: first.webHeight,
      alt: first.alt,
      caption: first.caption,
      credit: first.credit,
      label: t.pressImage,
    },
  };
}

/** WCAG contrast ratio of two colours written #rrggbb or #rgb. */
export function contrastRatio(a: string, b: string): number {
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function rgb(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The greyest background a brand colour is written on in the emails and pages. */
const lightestGrey = '#f3f4f6';

/**
 * A brand colour as text: the colour itself when it reads at 4.5:1 on the emails' light
 * backgrounds, else the same hue darkened until it does (a yellow brand becomes an ochre).
 */
export function legibleColor(hex: string): string {
  let [r, g, b] = rgb(hex);
  const toHex = () => `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  let color = hex.length === 4 ? toHex() : hex;
  while (contrastRatio(color, lightestGrey) < 4.6) {
    [r, g, b] = [r * 0.93, g * 0.93, b * 0.93];
    color = toHex();
  }
  return color;
}

/**
 * The absolute URL of each local image of a release under `base`, or undefined (the image
 * is left out) for a file the release did not bring or when `base` is not absolute.
 */
export function releaseImageUrl(
  pub: Pick<Publication, 'images'>,
  base: string,
): (file: string) => string | undefined {
  const files = new Set((pub.images ?? []).map((i) => i.file));
  return (file) =>
    /^https?:\/\//.test(base) && files.has(file)
      ? base + file.split('/').map(encodeURIComponent).join('/')
      : undefined;
}

function publisherView(p: Publisher, t: LocaleStrings, lang: Language, accent: string) {
  const aboutHtml = typesetHtml(markdownToHtml(p.about), lang);
  const contactParts: { label: string; text: string; href?: string }[] = [];
  if (p.phone)
    contactParts.push({
      label: `${t.phone}${t.colon} `,
      text: p.phone,
      href: `tel:${p.phone.replace(/[^+0-9]/g, '')}`,
    });
  if (p.email) contactParts.push({ label: '', text: p.email, href: `mailto:${p.email}` });
  for (const [network, handle] of Object.entries(p.social ?? {})) {
    const profile = socialProfile(network, handle);
    contactParts.push({
      label: `${profile.label}${t.colon} `,
      text: handle,
      ...(profile.url && { href: profile.url }),
    });
  }
  return {
    ...p,
    // In the email, a label stays on the line of what it labels ("Twitter : @name").
    contactParts: contactParts.map((c) => ({ ...c, boundLabel: c.label.replace(/ $/, '\u00a0') })),
    color: p.color ? legibleColor(p.color) : accent,
    aboutTitle: aboutHeading(p, t, lang),
    pressContactLabel: p.pressContact?.label ?? t.pressContact,
    aboutHtml,
    aboutText: htmlToText(aboutHtml),
    // In the text part, one way to reach the organisation per line: nothing to wrap mid-way.
    contactLine: contactParts.map((c) => `${c.label}${c.text}`).join('\n'),
    addressLines: p.address
      ? p.address
          .split(/\n/)
          .map((l) => l.trim())
          .filter(Boolean)
      : [],
    websiteLabel: p.website?.replace(/^https?:\/\/(www\.)?/, '').replace(/\/$/, ''),
    lang,
  };
}

/**
 * The heading over an organisation's boilerplate: its own `aboutHeading`, or the language's
 * pattern with its name: `À propos de la Fédération` (article given), `À propos
 * d’Intercommunalités de France` (elided before a vowel or mute h).
 */
export function aboutHeading(
  p: Pick<Publisher, 'name' | 'article' | 'aboutHeading'>,
  t: Pick<LocaleStrings, 'about'>,
  lang: Language,
): string {
  if (p.aboutHeading) return p.aboutHeading;
  const ofName = lang === 'fr' ? frenchOf(p.name, p.article) : `of ${p.name}`;
  return fillPattern(t.about, { name: p.name, ofName });
}

/**
 * A text's first words, at most `max` characters: cut between two words and ended with an
 * ellipsis when something was cut. The inbox preview line (preheader) takes about 100
 * characters of the lead, the page's description about 150.
 */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  const words = (space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.!?«“(–—-]+$/u, '');
  return `${words}…`;
}

/**
 * Invisible characters after the preheader, so that clients showing a longer preview do not
 * fill it with the start of the body (the date line, "Communiqué de presse"...).
 */
export const preheaderPadding = '&#847;&zwnj;&nbsp;'.repeat(90);

/** `mardi 8 juin 2021` → `Mardi 8 juin 2021`. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Trailing spaces off, lines wrapped at 78 characters, at most one blank line in a row, one
 * final newline.
 */
export function tidyText(text: string): string {
  return `${text
    .split('\n')
    .map((l) => wrapLine(l.trimEnd()))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/** Plain-text lines stay within this width (RFC 5322 recommends 78), but for a word longer than that (a URL). */
export const textWidth = 78;

/**
 * Wraps a line at spaces (never at a no-break space).
 * The lines that follow a list item's are indented under its text.
 */
export function wrapLine(line: string, width = textWidth): string {
  // A line holding recipient placeholders is as long as what fills them: left as it is.
  if (line.length <= width || line.includes('{{')) return line;
  const indent = /^(?:[-*—] |\s+)/.exec(line)?.[0].replace(/\S/g, ' ') ?? '';
  const lines: string[] = [];
  let current = '';
  for (const word of line.slice(indent.length).split(' ')) {
    const start = lines.length === 0 && current === '' ? line.slice(0, indent.length) : '';
    if (current === '') current = (lines.length === 0 ? start : indent) + word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      lines.push(current);
      current = indent + word;
    }
  }
  lines.push(current);
  return lines.join('\n');
}
