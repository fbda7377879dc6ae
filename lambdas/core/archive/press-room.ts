import { createHash } from 'node:crypto';
import { Feed } from 'feed';
import Handlebars from 'handlebars';
import { type IssueSummary, isPublicIssue, readIssues } from '../newsletter/catalog.ts';
import { type Language, languageNames, languages } from '../publication/languages.ts';
import { fillPattern, formatDate, formatSize, type LocaleStrings } from '../render/locale.ts';
import type { TemplateSet } from '../render/templates.ts';
import { type FrenchArticle, frenchOf } from '../render/typography.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  isPublic,
  newestReleases,
  type PublicityOf,
  publicTagCount,
  type ReleaseSummary,
  readTag,
  readTags,
  readYear,
  readYearIndex,
  type TagIndex,
} from './catalog.ts';
import { type CoverageRow, listCoverage, publicCoverage } from './coverage.ts';
import { readSearchTexts, searchKeys, searchManifest, searchShard } from './search.ts';
import { isPublicSiteUrl, ogLocale, releaseDates } from './share.ts';
import { groupOf, readTranslationGroups, type TranslationIndex } from './translation-groups.ts';

/**
 * The public press room: static pages generated into the store under `site/`, served as
 * they are (by CloudFront, or `pressroom serve`). Only the pages that list what changed are
 * rewritten: a year, a few tags, the home page, the feeds and that year's sitemap.
 *
 *   site/index.html                   latest releases
 *   site/404.html                     the page a host answers with when nothing is at an address
 *   site/<yyyy>/index.html            a year
 *   site/tags/<tag>/index.html        a tag
 *   site/releases/<slug>/index.html   a release, with its downloads beside it
 *   site/feed.xml, atom.xml, feed.json
 *   site/sitemap.xml → site/sitemaps/<yyyy>.xml, site/sitemaps/pages.xml
 *   site/search/...                   the search index and page (search.ts)
 *   site/assets/search-<hash>.js      the search box's script
 *   site/<lang>/index.html            the latest releases in one language (fr, en), with its
 *   site/<lang>/feed.xml, atom.xml,   feeds: only when the room has public releases in more
 *     feed.json                       than one language (translations.ts)
 *   site/newsletters/index.html       the newsletter issues (when one is public), and
 *   site/newsletters/<id>/...         each public issue; feed.xml, atom.xml, feed.json of
 *                                     their own: the releases' feeds carry releases only
 *
 * One language per press room: the site's (the workspace's `language`). Every string of the
 * site's own (headings, navigation, dates, download labels, the 404 and withdrawn pages) is in
 * it; a release or an issue in another language keeps its own: its title and lead carry their
 * `lang` in the lists, and its page (a document of its own, printed to PDF) is in its language.
 */

export interface PressRoomSettings {
  /** Absolute URL of the site's top, ending in "/": feeds and sitemaps need absolute links. */
  siteUrl: string;
  /** Language of the site's own strings. */
  lang: Language;
  /** Site title; default from `organization` ("Salle de presse de Villes Internet"), else "Salle de presse" / "Press room". */
  title?: string;
  /** The organisation whose press room this is (the workspace's first): names the site when `title` is not given. */
  organization?: { name: string; article?: FrenchArticle | undefined };
  /** How many releases the home page lists. */
  latestCount?: number;
  /** How many releases the feeds carry. */
  feedCount?: number;
}

export const siteKeys = {
  /** Every key of the press room starts with it; the rest is the path on the site. */
  prefix: 'site/',
  index: 'site/index.html',
  notFound: 'site/404.html',
  year: (year: string) => `site/${year}/index.html`,
  tag: (tag: string) => `site/tags/${tag}/index.html`,
  releasePrefix: (slug: string) => `site/releases/${slug}/`,
  release: (slug: string) => `site/releases/${slug}/index.html`,
  rss: 'site/feed.xml',
  atom: 'site/atom.xml',
  json: 'site/feed.json',
  sitemap: 'site/sitemap.xml',
  robots: 'site/robots.txt',
  yearSitemap: (year: string) => `site/sitemaps/${year}.xml`,
  pagesSitemap: 'site/sitemaps/pages.xml',
  newsletters: 'site/newsletters/index.html',
  newsletterPrefix: (id: string) => `site/newsletters/${id}/`,
  newsletterRss: 'site/newsletters/feed.xml',
  newsletterAtom: 'site/newsletters/atom.xml',
  newsletterJson: 'site/newsletters/feed.json',
  newslettersSitemap: 'site/sitemaps/newsletters.xml',
  /** The articles that cite the releases (`pressroom coverage add`), when there is one. */
  coverage: 'site/coverage/index.html',
  /** A language's page and feeds, when the room has public releases in more than one language. */
  languageIndex: (lang: Language) => `site/${lang}/index.html`,
  languageRss: (lang: Language) => `site/${lang}/feed.xml`,
  languageAtom: (lang: Language) => `site/${lang}/atom.xml`,
  languageJson: (lang: Language) => `site/${lang}/feed.json`,
};

/** The files a public release offers, relative to its folder in the press room. */
export const releaseDownloads = {
  page: 'index.html',
  pdf: 'release.pdf',
  email: 'email.html',
  text: 'release.txt',
  attachment: (file: string) => `files/${file}`,
};

/** The files a public newsletter issue offers, relative to its folder in the press room. */
export const issueDownloads = {
  page: 'index.html',
  email: 'email.html',
  text: 'newsletter.txt',
};

export interface PressRoom {
  /** The site's title (og:site_name). */
  readonly title: string;
  /** The fixed strings of a language (a release's own, for its card). */
  strings(lang: Language): LocaleStrings;
  /**
   * Rewrites the pages listing these years and tags (and languages: their page and feeds),
   * plus the home page, feeds and sitemaps. Returns the keys written.
   */
  refresh(
    store: ObjectStore,
    touched: { years: Iterable<string>; tags: Iterable<string>; languages?: Iterable<Language> },
    now: Date,
  ): Promise<string[]>;
  /** Links from a release's own page: the way back, the search box and the downloads. */
  releasePageLinks(release: ReleaseSummary): {
    indexUrl: string;
    search: SearchBox;
    /** `download` makes the link save the file; `downloadName` names it (hosts that send no headers). */
    downloads: { label: string; url: string; detail?: string; download?: boolean; downloadName?: string }[];
  };
  /**
   * Rewrites the Newsletters section (its page, its feeds, its sitemap), or removes it when no
   * issue is public. When the section appears or goes, every list page is rewritten for its
   * link. Returns the keys written.
   */
  refreshNewsletters(store: ObjectStore, now: Date): Promise<string[]>;
  /**
   * Rewrites the coverage page from the coverage of every public release, newest first, or
   * removes it when there is none. When it appears or goes, every list page is rewritten for
   * its link. Returns the keys written.
   */
  refreshCoverage(store: ObjectStore, now: Date): Promise<string[]>;
  /**
   * The page left at a withdrawn release's address: it says that the release was withdrawn
   * and when, and nothing of what it said (neither its title nor the reason).
   */
  withdrawnPage(release: Pick<ReleaseSummary, 'withdrawn'>): string;
  /** Links from an issue's own page: the ways back and the downloads. */
  issuePageLinks(issue: IssueSummary): {
    indexUrl: string;
    newslettersUrl: string;
    siteRoot: string;
    downloads: { label: string; url: string; download?: boolean }[];
  };
}

const html = { contentType: 'text/html; charset=utf-8', cacheControl: 'public, max-age=300' };

/** What the search box of a page (templates/partials/search-box.hbs) links to. */
export interface SearchBox {
  /** The search page: where the form leads without scripts. */
  action: string;
  /** The way to the site's top, where `search/` is. */
  root: string;
  script: string;
}

export function createPressRoom(templates: TemplateSet, settings: PressRoomSettings): PressRoom {
  const t = templates.locales[settings.lang];
  const env = Handlebars.create();
  const searchBoxPartial = templates.partials['search-box'];
  if (searchBoxPartial !== undefined) env.registerPartial('search-box', searchBoxPartial);
  const list = env.compile(templates.pressRoom.list, { preventIndent: true });
  // One file, MiniSearch then ours; its name changes with its content (cached for good).
  const searchScript = `${templates.pressRoom.search.library.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')};\n${templates.pressRoom.search.script}`;
  const searchScriptKey = searchKeys.script(
    createHash('sha256').update(searchScript).digest('hex').slice(0, 12),
  );
  const searchBox = (root: string): SearchBox => ({
    action: `${root}search/index.html`,
    root,
    script: root + searchScriptKey.slice(siteKeys.prefix.length),
  });
  const siteUrl = settings.siteUrl.endsWith('/') ? settings.siteUrl : `${settings.siteUrl}/`;
  const title = settings.title ?? siteTitle(t, settings);
  // The 404 page is answered at any address: its links start from the site's top.
  const topPath = new URL(siteUrl).pathname;
  const latestCount = settings.latestCount ?? 30;
  const feedCount = settings.feedCount ?? 20;
  // A tag page lists every release with that tag: Intl formats each date once per press room.
  const dateTexts = new Map<string, string>();
  const dateText = (date: string) => {
    let text = dateTexts.get(date);
    if (text === undefined) {
      text = formatDate(date, settings.lang);
      dateTexts.set(date, text);
    }
    return text;
  };

  /** `lt`, `lang`: the language of the page the links are on. */
  function downloadsOf(r: ReleaseSummary, base: string, lt: LocaleStrings, lang: Language) {
    return [
      // Saved as <slug>.pdf, like the Content-Disposition the press room's hosts send with it.
      ...(r.formats.pdf
        ? [{ label: lt.pdf, url: base + releaseDownloads.pdf, download: true, downloadName: `${r.slug}.pdf` }]
        : []),
      { label: lt.emailVersion, url: base + releaseDownloads.email },
      { label: lt.plainText, url: base + releaseDownloads.text, download: true },
      ...r.formats.attachments.map((a) => ({
        label: a.label,
        url: base + releaseDownloads.attachment(a.file).split('/').map(encodeURIComponent).join('/'),
        detail: formatSize(a.size, lang),
        download: true,
        // The label is the release's own words: marked when the page is in another language.
        ...(r.lang !== lang && { lang: r.lang }),
      })),
    ];
  }

  /** The language an item's own words (title, lead) are marked with: only when it is not the site's. */
  const ownLang = (lang: Language) => (lang === settings.lang ? undefined : lang);

  function releaseItem(r: ReleaseSummary, root: string) {
    const base = `${root}releases/${r.slug}/`;
    return {
      slug: r.slug,
      lang: ownLang(r.lang),
      title: r.title,
      date: r.date,
      dateText: dateText(r.date),
      lead: r.lead,
      publishers: r.publishers.join(', '),
      url: base + releaseDownloads.page,
      tags: r.tags.map((x) => ({ name: x.name, url: `${root}tags/${x.slug}/index.html` })),
      downloads: downloadsOf(r, base, t, settings.lang),
    };
  }

  /** What the site may show: years and tags that have at least one public release now. */
  async function publicIndex(store: ObjectStore, now: Date, tagIndex: TagIndex['tags']) {
    // years.json names every release of the archive: a plain loop, stopping at the first public one.
    const hasPublic = (releases: Record<string, PublicityOf>) => {
      for (const slug in releases) if (isPublic(releases[slug] as PublicityOf, now)) return true;
      return false;
    };
    const yearIndex = await readYearIndex(store);
    const years = Object.keys(yearIndex)
      .filter((year) => hasPublic(yearIndex[year] as Record<string, PublicityOf>))
      .sort()
      .reverse();
    const tags = Object.entries(tagIndex)
      .map(([slug, entry]) => ({ slug, name: entry.name, count: publicTagCount(entry, now) }))
      .filter((x) => x.count > 0)
      .sort((a, b) => a.name.localeCompare(b.name, settings.lang));
    const newsletters = (await readIssues(store)).some(isPublicIssue);
    const coverage = (await store.head(siteKeys.coverage)) !== undefined;
    const languagePages: Language[] = [];
    for (const lang of languages)
      if ((await store.head(siteKeys.languageIndex(lang))) !== undefined) languagePages.push(lang);
    return { years, tags, newsletters, coverage, languages: languagePages };
  }

  function navigation(
    index: Awaited<ReturnType<typeof publicIndex>>,
    root: string,
    current: { year?: string; tag?: string; newsletters?: boolean; coverage?: boolean; language?: Language },
  ) {
    return {
      languageLinks: index.languages.map((lang) => ({
        lang,
        name: languageNames[lang],
        url: `${root}${lang}/index.html`,
        current: lang === current.language,
      })),
      years: index.years.map((year) => ({
        year,
        url: `${root}${year}/index.html`,
        current: year === current.year,
      })),
      tags: index.tags.map((x) => ({
        ...x,
        url: `${root}tags/${x.slug}/index.html`,
        current: x.slug === current.tag,
      })),
      newsletters: index.newsletters
        ? { url: `${root}newsletters/index.html`, current: current.newsletters === true }
        : undefined,
      coverageLink: index.coverage
        ? { url: `${root}coverage/index.html`, current: current.coverage === true }
        : undefined,
    };
  }

  function page(
    root: string,
    heading: string,
    releases: ReleaseSummary[],
    nav: ReturnType<typeof navigation>,
    showYears: boolean,
    home = false,
    path?: string,
  ) {
    return listPage({
      root,
      heading,
      home,
      ...(path !== undefined && { path }),
      items: releases.map((r) => releaseItem(r, root)),
      nav,
      showYears,
      feeds: { rss: `${root}feed.xml`, atom: `${root}atom.xml`, json: `${root}feed.json` },
    });
  }

  /** A list page (`press-room/list.html.hbs`): items grouped by year, newest first. */
  function listPage(args: {
    root: string;
    heading: string;
    items: (ReturnType<typeof releaseItem> | ReturnType<typeof issueItem>)[];
    nav: ReturnType<typeof navigation>;
    showYears: boolean;
    feeds: { rss: string; atom: string; json: string };
    /** Shown instead of the list; the page is then kept out of search engines. */
    notice?: string;
    /** With `notice`: a link to the home page, with this text. */
    homeLink?: string;
    /** The home page: its title is the site's alone. */
    home?: boolean;
    /** Its address under the site's top (`2021/index.html`): its canonical link. */
    path?: string;
    /** The coverage page's articles, shown instead of releases. */
    coverage?: ReturnType<typeof coverageItem>[];
    /** The search page: its results come from the script; without it, it says so. */
    searchPage?: boolean;
  }) {
    const groups: { year: string; releases: typeof args.items }[] = [];
    for (const item of args.items) {
      const year = item.date.slice(0, 4);
      let group = groups.at(-1);
      if (group?.year !== year) {
        group = { year, releases: [] };
        groups.push(group);
      }
      group.releases.push(item);
    }
    return list({
      lang: settings.lang,
      t,
      root: args.root,
      siteTitle: title,
      pageTitle: args.home || args.heading === title ? title : `${args.heading} – ${title}`,
      heading: args.heading,
      showYears: args.showYears,
      groups,
      ...args.nav,
      feeds: args.feeds,
      search: searchBox(args.root),
      ...(args.searchPage && { searchPage: true, noindex: true }),
      ...(args.notice !== undefined && { notice: args.notice, noindex: true }),
      ...(args.homeLink !== undefined && { homeLink: args.homeLink }),
      ...(args.path !== undefined && isPublicSiteUrl(siteUrl) && { canonical: siteUrl + args.path }),
      ogLocale: ogLocale(settings.lang),
      ...(args.coverage !== undefined && { coverage: args.coverage }),
    });
  }

  /** An article on the coverage page (`site/coverage/`). */
  function coverageItem(row: CoverageRow) {
    return {
      date: row.date,
      dateText: dateText(row.date),
      outlet: row.outlet,
      title: row.title,
      url: row.url,
      lang: row.language !== undefined && row.language !== settings.lang ? row.language : undefined,
      release: {
        title: row.release.title,
        url: `../releases/${row.slug}/${releaseDownloads.page}`,
        lang: ownLang(row.release.lang),
      },
    };
  }

  /** An issue in the Newsletters list, whose page is at `site/newsletters/`. */
  function issueItem(issue: IssueSummary) {
    return {
      slug: issue.id,
      lang: ownLang(issue.lang),
      title: issue.title,
      date: issue.date,
      dateText: dateText(issue.date),
      lead: issue.summary,
      publishers: issue.publishers.join(', '),
      url: `${issue.id}/${issueDownloads.page}`,
      tags: [] as { name: string; url: string }[],
      downloads: issueFiles(issue, `${issue.id}/`, t),
    };
  }

  function issueFiles(_issue: IssueSummary, base: string, lt: LocaleStrings) {
    return [
      { label: lt.emailVersion, url: base + issueDownloads.email },
      { label: lt.plainText, url: base + issueDownloads.text, download: true },
    ];
  }

  /** One entry of a feed: a release or a newsletter issue. */
  interface FeedEntry {
    title: string;
    link: string;
    /** Plain text. */
    summary: string;
    updated: string;
    date: string;
    authors: string[];
    categories: string[];
  }

  function feeds(
    entries: FeedEntry[],
    now: Date,
    meta: {
      title: string;
      id: string;
      links: { rss: string; atom: string; json: string };
      /** The feed's language when not the site's (a language's feeds). */
      language?: Language;
    } = {
      title,
      id: siteUrl,
      links: { rss: `${siteUrl}feed.xml`, atom: `${siteUrl}atom.xml`, json: `${siteUrl}feed.json` },
    },
  ) {
    // Atom declares its titles type="html": there, text must be escaped. RSS titles are text
    // in CDATA and JSON Feed titles are text: there, they go as they are.
    const build = (escapeTitles: boolean) => {
      const text = (value: string) => (escapeTitles ? Handlebars.Utils.escapeExpression(value) : value);
      const feed = new Feed({
        title: meta.title,
        id: meta.id,
        link: siteUrl,
        language: meta.language ?? settings.lang,
        updated: entries[0] ? new Date(entries[0].updated) : now,
        generator: 'pressroom',
        copyright: `© ${[...new Set(entries.flatMap((e) => e.authors))].join(', ')}`,
        feedLinks: meta.links,
      });
      for (const e of entries) {
        feed.addItem({
          title: text(e.title),
          id: e.link,
          link: e.link,
          // Summaries are read as HTML by feed readers: the lead is text, so it is escaped.
          description: Handlebars.Utils.escapeExpression(e.summary),
          date: new Date(e.updated),
          published: new Date(`${e.date}T00:00:00Z`),
          author: e.authors.map((name) => ({ name: text(name) })),
          category: e.categories.map((name) => ({ name: Handlebars.Utils.escapeExpression(name) })),
        });
      }
      return feed;
    };
    const plain = build(false);
    return { rss: plain.rss2(), atom: build(true).atom1(), json: plain.json1() };
  }

  function releaseEntry(r: ReleaseSummary): FeedEntry {
    return {
      title: r.title,
      link: `${siteUrl}releases/${r.slug}/${releaseDownloads.page}`,
      summary: r.lead,
      updated: r.updatedAt,
      date: r.date,
      authors: r.publishers,
      categories: r.tags.map((x) => x.name),
    };
  }

  /**
   * A sitemap; `image`: the page's image (Google's image extension); `alternates`: the page in
   * each language of its group, itself among them (`xhtml:link`, as Google reads hreflang).
   */
  function urlset(
    urls: { loc: string; lastmod?: string; image?: string; alternates?: { lang: string; href: string }[] }[],
  ): string {
    const entries = urls.map(
      (u) =>
        `  <url><loc>${xml(u.loc)}</loc>${u.lastmod ? `<lastmod>${xml(u.lastmod)}</lastmod>` : ''}${(u.alternates ?? []).map((a) => `<xhtml:link rel="alternate" hreflang="${xml(a.lang)}" href="${xml(a.href)}"/>`).join('')}${u.image ? `<image:image><image:loc>${xml(u.image)}</image:loc></image:image>` : ''}</url>`,
    );
    // The xhtml namespace only where it is used: a room without translations keeps its sitemaps.
    const xhtml = urls.some((u) => u.alternates?.length) ? ' xmlns:xhtml="http://www.w3.org/1999/xhtml"' : '';
    return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"${xhtml}>\n${entries.join('\n')}\n</urlset>\n`;
  }

  /** A release's page in each language of its group public at `now`, when there are two or more. */
  function alternatesOf(groups: TranslationIndex['groups'], r: ReleaseSummary, now: Date) {
    const members = groupOf(groups, r).filter((m) => isPublic(m, now));
    if (members.length < 2) return undefined;
    return [...members]
      .sort((a, b) => a.lang.localeCompare(b.lang))
      .map((m) => ({ lang: m.lang, href: `${siteUrl}releases/${m.slug}/index.html` }));
  }

  /** The page hosts answer with when nothing is at an address (status 404); kept out of search engines. */
  function notFoundPage(nav: ReturnType<typeof navigation>) {
    return listPage({
      root: topPath,
      heading: t.notFoundTitle,
      items: [],
      nav,
      showYears: false,
      feeds: { rss: `${topPath}feed.xml`, atom: `${topPath}atom.xml`, json: `${topPath}feed.json` },
      notice: t.notFoundText,
      homeLink: t.notFoundHome,
    });
  }

  /** Every year and tag page, the home page, feeds and sitemaps (a link of their navigation changed). */
  async function everyList(store: ObjectStore, now: Date): Promise<string[]> {
    const index = await publicIndex(store, now, await readTags(store));
    return pressRoom.refresh(
      store,
      { years: index.years, tags: index.tags.map((x) => x.slug), languages },
      now,
    );
  }

  /** The coverage page, from the coverage of every public release; removed when there is none. Returns the keys written. */
  async function writeCoveragePage(store: ObjectStore, now: Date): Promise<string[]> {
    const rows = publicCoverage(await listCoverage(store), now);
    if (rows.length === 0) {
      await store.delete(siteKeys.coverage);
      return [];
    }
    const index = { ...(await publicIndex(store, now, await readTags(store))), coverage: true };
    await store.put(
      siteKeys.coverage,
      listPage({
        root: '../',
        heading: t.pressCoverage,
        items: [],
        nav: navigation(index, '../', { coverage: true }),
        showYears: false,
        feeds: { rss: '../feed.xml', atom: '../atom.xml', json: '../feed.json' },
        path: 'coverage/index.html',
        coverage: rows.map(coverageItem),
      }),
      html,
    );
    return [siteKeys.coverage];
  }

  const pressRoom: PressRoom = {
    title,
    strings: (lang) => templates.locales[lang],
    withdrawnPage(release) {
      const root = '../../';
      return listPage({
        root,
        heading: t.withdrawnTitle,
        items: [],
        // No years or tags: the page is written once and never refreshed.
        nav: { years: [], tags: [], newsletters: undefined, coverageLink: undefined, languageLinks: [] },
        showYears: false,
        feeds: { rss: `${root}feed.xml`, atom: `${root}atom.xml`, json: `${root}feed.json` },
        notice: fillPattern(t.withdrawnText, {
          date: formatDate((release.withdrawn ?? '').slice(0, 10), settings.lang),
        }),
      });
    },

    releasePageLinks(release) {
      const lt = templates.locales[release.lang];
      return {
        indexUrl: '../../index.html',
        search: searchBox('../../'),
        downloads: downloadsOf(release, '', lt, release.lang),
      };
    },

    async refresh(store, touched, now) {
      const written: string[] = [];
      const searchOptions = { contentType: 'application/json', cacheControl: 'public, max-age=300' };
      const searchResult = (r: ReleaseSummary) => ({
        title: r.title,
        url: `releases/${r.slug}/${releaseDownloads.page}`,
        date: r.date,
        dateText: dateText(r.date),
        ...(ownLang(r.lang) && { lang: r.lang }),
      });
      const put = async (key: string, body: string, options = html) => {
        await store.put(key, body, options);
        written.push(key);
      };
      const visible = (r: ReleaseSummary) => isPublic(r, now);
      // Read once: every page's navigation lists the public years and tags.
      const tagIndex = await readTags(store);
      const index = await publicIndex(store, now, tagIndex);
      // Languages with public releases: each has its page when there are two or more.
      const hadLanguagePages = index.languages;
      const inLanguage = new Map<Language, ReleaseSummary[]>();
      for (const lang of languages) {
        const releases = await newestReleases(
          store,
          Math.max(latestCount, feedCount),
          (r) => r.lang === lang && visible(r),
        );
        if (releases.length > 0) inLanguage.set(lang, releases);
      }
      index.languages = inLanguage.size > 1 ? [...inLanguage.keys()] : [];
      const groups = await readTranslationGroups(store);
      const xmlOptions = { contentType: 'application/xml', cacheControl: 'public, max-age=3600' };

      // A year or a tag with nothing public has no page at all: its name could say too much.
      for (const year of new Set(touched.years)) {
        if (!index.years.includes(year)) {
          await store.delete(siteKeys.year(year));
          await store.delete(siteKeys.yearSitemap(year));
          await store.delete(searchKeys.shard(year));
          continue;
        }
        const releases = (await readYear(store, year)).filter(visible);
        await put(
          searchKeys.shard(year),
          searchShard(releases, await readSearchTexts(store, year), searchResult),
          searchOptions,
        );
        const nav = navigation(index, '../', { year });
        await put(
          siteKeys.year(year),
          page(
            '../',
            fillPattern(t.releasesOfYear, { year }),
            releases,
            nav,
            false,
            false,
            `${year}/index.html`,
          ),
        );
        await put(
          siteKeys.yearSitemap(year),
          urlset(
            releases.map((r) => ({
              loc: `${siteUrl}releases/${r.slug}/index.html`,
              lastmod: releaseDates(r).modified,
              ...(r.image !== undefined && { image: `${siteUrl}releases/${r.slug}/${r.image}` }),
              ...(alternatesOf(groups, r, now) && { alternates: alternatesOf(groups, r, now) }),
            })),
          ),
          xmlOptions,
        );
      }
      for (const tag of new Set(touched.tags)) {
        const entry = index.tags.find((x) => x.slug === tag);
        if (!entry) {
          await store.delete(siteKeys.tag(tag));
          continue;
        }
        const releases = (await readTag(store, tag)).filter(visible);
        const nav = navigation(index, '../../', { tag });
        await put(
          siteKeys.tag(tag),
          page(
            '../../',
            fillPattern(t.releasesTagged, { tag: entry.name }),
            releases,
            nav,
            true,
            false,
            `tags/${tag}/index.html`,
          ),
        );
      }

      const latest = await newestReleases(store, Math.max(latestCount, feedCount), visible);
      await put(
        siteKeys.index,
        page(
          '',
          t.latestReleases,
          latest.slice(0, latestCount),
          navigation(index, '', {}),
          true,
          true,
          'index.html',
        ),
      );
      // Its navigation lists the years and tags, like the home page's: rewritten with it.
      await put(siteKeys.notFound, notFoundPage(navigation(index, topPath, {})));
      // The search page, for the same reason; the years that have an index; the script once.
      await put(
        searchKeys.page,
        listPage({
          root: '../',
          heading: t.searchTitle,
          items: [],
          nav: navigation(index, '../', {}),
          showYears: false,
          feeds: { rss: '../feed.xml', atom: '../atom.xml', json: '../feed.json' },
          searchPage: true,
        }),
      );
      await put(searchKeys.manifest, JSON.stringify(searchManifest(index.years)), searchOptions);
      if (!(await store.head(searchScriptKey))) {
        await put(searchScriptKey, searchScript, {
          contentType: 'text/javascript; charset=utf-8',
          cacheControl: 'public, max-age=31536000, immutable',
        });
      }
      const f = feeds(latest.slice(0, feedCount).map(releaseEntry), now);
      const feedOptions = (contentType: string) => ({ contentType, cacheControl: 'public, max-age=300' });
      await put(siteKeys.rss, f.rss, feedOptions('application/rss+xml; charset=utf-8'));
      await put(siteKeys.atom, f.atom, feedOptions('application/atom+xml; charset=utf-8'));
      await put(siteKeys.json, f.json, feedOptions('application/feed+json; charset=utf-8'));

      // A language's page and feeds: rewritten when one of its releases changed, or when they appear; gone with the second language.
      const touchedLanguages = new Set(touched.languages ?? []);
      for (const lang of languages) {
        const keys = [
          siteKeys.languageIndex(lang),
          siteKeys.languageRss(lang),
          siteKeys.languageAtom(lang),
          siteKeys.languageJson(lang),
        ];
        const releases = inLanguage.get(lang);
        if (!index.languages.includes(lang) || !releases) {
          if (hadLanguagePages.includes(lang)) for (const key of keys) await store.delete(key);
          continue;
        }
        if (hadLanguagePages.includes(lang) && !touchedLanguages.has(lang)) continue;
        const heading = t[lang === 'fr' ? 'releasesInFr' : 'releasesInEn'];
        await put(
          siteKeys.languageIndex(lang),
          listPage({
            root: '../',
            heading,
            items: releases.slice(0, latestCount).map((r) => releaseItem(r, '../')),
            nav: navigation(index, '../', { language: lang }),
            showYears: true,
            path: `${lang}/index.html`,
            feeds: { rss: 'feed.xml', atom: 'atom.xml', json: 'feed.json' },
          }),
        );
        const base = `${siteUrl}${lang}/`;
        const lf = feeds(releases.slice(0, feedCount).map(releaseEntry), now, {
          title: `${heading} – ${title}`,
          id: base,
          links: { rss: `${base}feed.xml`, atom: `${base}atom.xml`, json: `${base}feed.json` },
          language: lang,
        });
        await put(siteKeys.languageRss(lang), lf.rss, feedOptions('application/rss+xml; charset=utf-8'));
        await put(siteKeys.languageAtom(lang), lf.atom, feedOptions('application/atom+xml; charset=utf-8'));
        await put(siteKeys.languageJson(lang), lf.json, feedOptions('application/feed+json; charset=utf-8'));
      }

      await put(
        siteKeys.pagesSitemap,
        urlset([
          { loc: `${siteUrl}index.html` },
          ...index.years.map((y) => ({ loc: `${siteUrl}${y}/index.html` })),
          ...index.tags.map((x) => ({ loc: `${siteUrl}tags/${x.slug}/index.html` })),
          ...(index.newsletters ? [{ loc: `${siteUrl}newsletters/index.html` }] : []),
          ...(index.coverage ? [{ loc: `${siteUrl}coverage/index.html` }] : []),
          ...index.languages.map((lang) => ({ loc: `${siteUrl}${lang}/index.html` })),
        ]),
        xmlOptions,
      );
      const sitemaps = [
        siteKeys.pagesSitemap,
        ...index.years.map(siteKeys.yearSitemap),
        ...(index.newsletters ? [siteKeys.newslettersSitemap] : []),
      ].map((key) => `  <sitemap><loc>${xml(siteUrl + key.slice('site/'.length))}</loc></sitemap>`);
      // Crawlers find the sitemap here; nothing is kept from them (what is not public is not on the site).
      await put(siteKeys.robots, robotsTxt(siteUrl), {
        contentType: 'text/plain; charset=utf-8',
        cacheControl: 'public, max-age=3600',
      });
      await put(
        siteKeys.sitemap,
        `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${sitemaps.join('\n')}\n</sitemapindex>\n`,
        xmlOptions,
      );
      // The language links are on every list page: they change only when the language pages appear or go.
      if (hadLanguagePages.join() !== index.languages.join()) {
        written.push(...(await everyList(store, now)));
        written.push(...(await writeCoveragePage(store, now)));
        if (index.newsletters) written.push(...(await pressRoom.refreshNewsletters(store, now)));
      }
      return written;
    },

    async refreshCoverage(store, now) {
      const hadPage = (await store.head(siteKeys.coverage)) !== undefined;
      const written = await writeCoveragePage(store, now);
      const hasPage = written.length > 0;
      // The page's link is on every list page: they change only when the page appears or goes.
      if (hadPage !== hasPage) {
        written.push(...(await everyList(store, now)));
        if ((await readIssues(store)).some(isPublicIssue))
          written.push(...(await pressRoom.refreshNewsletters(store, now)));
      }
      return written;
    },

    issuePageLinks(issue) {
      return {
        indexUrl: '../../index.html',
        newslettersUrl: `../${issueDownloads.page}`,
        siteRoot: '../../',
        downloads: issueFiles(issue, '', templates.locales[issue.lang]),
      };
    },

    async refreshNewsletters(store, now) {
      const written: string[] = [];
      const issues = (await readIssues(store)).filter(isPublicIssue);
      const hadSection = (await store.head(siteKeys.newsletters)) !== undefined;
      const xmlOptions = { contentType: 'application/xml', cacheControl: 'public, max-age=3600' };
      const feedKeys = [siteKeys.newsletterRss, siteKeys.newsletterAtom, siteKeys.newsletterJson];
      if (issues.length === 0) {
        for (const key of [siteKeys.newsletters, ...feedKeys, siteKeys.newslettersSitemap]) {
          await store.delete(key);
        }
      } else {
        const tagIndex = await readTags(store);
        const index = await publicIndex(store, now, tagIndex);
        const heading = t.newsletters;
        await store.put(
          siteKeys.newsletters,
          listPage({
            root: '../',
            heading,
            items: issues.map(issueItem),
            nav: navigation(index, '../', { newsletters: true }),
            showYears: true,
            path: 'newsletters/index.html',
            feeds: { rss: 'feed.xml', atom: 'atom.xml', json: 'feed.json' },
          }),
          html,
        );
        written.push(siteKeys.newsletters);
        const base = `${siteUrl}newsletters/`;
        const f = feeds(
          issues.slice(0, feedCount).map((i) => ({
            title: i.title,
            link: `${base}${i.id}/${issueDownloads.page}`,
            summary: i.summary,
            updated: i.updatedAt,
            date: i.date,
            authors: i.publishers,
            categories: [],
          })),
          now,
          {
            title: `${heading} – ${title}`,
            id: base,
            links: { rss: `${base}feed.xml`, atom: `${base}atom.xml`, json: `${base}feed.json` },
          },
        );
        const feedOptions = (contentType: string) => ({ contentType, cacheControl: 'public, max-age=300' });
        await store.put(siteKeys.newsletterRss, f.rss, feedOptions('application/rss+xml; charset=utf-8'));
        await store.put(siteKeys.newsletterAtom, f.atom, feedOptions('application/atom+xml; charset=utf-8'));
        await store.put(siteKeys.newsletterJson, f.json, feedOptions('application/feed+json; charset=utf-8'));
        await store.put(
          siteKeys.newslettersSitemap,
          urlset(
            issues.map((i) => ({
              loc: `${base}${i.id}/${issueDownloads.page}`,
              lastmod: i.updatedAt.slice(0, 10),
            })),
          ),
          xmlOptions,
        );
        written.push(...feedKeys, siteKeys.newslettersSitemap);
      }
      // The section's link is on every list page and in the sitemaps: they change only when
      // the section appears or goes.
      if (hadSection !== issues.length > 0) {
        written.push(...(await everyList(store, now)));
        written.push(...(await writeCoveragePage(store, now)));
      }
      return written;
    },
  };
  return pressRoom;
}

/**
 * The site's title when none is configured: the organisation's press room ("Salle de presse
 * de Villes Internet", "Salle de presse d’Intercommunalités de France", "Villes Internet press
 * room"), else the language's "Salle de presse" / "Press room".
 */
export function siteTitle(
  t: Pick<LocaleStrings, 'pressRoom' | 'pressRoomOf'>,
  settings: Pick<PressRoomSettings, 'lang' | 'organization'>,
): string {
  const org = settings.organization;
  if (!org) return t.pressRoom;
  const ofName = settings.lang === 'fr' ? frenchOf(org.name, org.article) : `of ${org.name}`;
  return fillPattern(t.pressRoomOf, { name: org.name, ofName });
}

/**
 * `robots.txt`: everything may be crawled, and the sitemap is named, by its absolute address
 * when the site has an https one (a local `http://localhost` address would mislead).
 */
export function robotsTxt(siteUrl: string): string {
  const sitemap = isPublicSiteUrl(siteUrl) ? `\nSitemap: ${siteUrl}sitemap.xml\n` : '';
  return `User-agent: *\nAllow: /\n${sitemap}`;
}

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
