import * as z from 'zod';
import type { Language } from '../publication/schema.ts';

/** The fixed strings of a language, from `templates/locales/<lang>.yaml`. `{name}` marks a value. */
export const localeStringsSchema = z.strictObject({
  pressRelease: z.string(),
  dateLine: z.string().includes('{date}'),
  embargoUntil: z.string().includes('{date}'),
  /** `{name}`, or `{ofName}`: "de" + the name as French wants it (`d’Intercommunalités de France`). */
  about: z
    .string()
    .refine((s) => s.includes('{name}') || s.includes('{ofName}'), 'must include {name} or {ofName}'),
  pressContact: z.string(),
  phone: z.string(),
  email: z.string(),
  website: z.string(),
  keyFigures: z.string(),
  links: z.string(),
  downloads: z.string(),
  /** The gallery's heading, the text part's word before the lead image, the download button. */
  pressImages: z.string(),
  pressImage: z.string(),
  downloadOriginal: z.string(),
  imageCredit: z.string(),
  imageLicence: z.string(),
  by: z.string().includes('{author}'),
  and: z.string(),
  greeting: z.string().includes('{firstName}'),
  greetingNoName: z.string(),
  receivedAs: z.string().includes('{fullName}'),
  unsubscribe: z.string(),
  viewOnline: z.string(),
  tags: z.string(),
  colon: z.string(),
  openQuote: z.string(),
  closeQuote: z.string(),
  backToPressRoom: z.string(),
  pressRoom: z.string(),
  /** The press room of an organisation: `{name}`, or `{ofName}` as in `about`. */
  pressRoomOf: z
    .string()
    .refine((s) => s.includes('{name}') || s.includes('{ofName}'), 'must include {name} or {ofName}'),
  webPage: z.string(),
  emailVersion: z.string(),
  plainText: z.string(),
  pdf: z.string(),
  latestReleases: z.string(),
  releasesOfYear: z.string().includes('{year}'),
  releasesTagged: z.string().includes('{tag}'),
  years: z.string(),
  feeds: z.string(),
  noReleases: z.string(),
  withdrawnTitle: z.string(),
  withdrawnText: z.string().includes('{date}'),
  newsletter: z.string(),
  newsletters: z.string(),
  newsletterReceivedAs: z.string().includes('{fullName}'),
  newsletterDraftTitle: z.string().includes('{month}'),
  newsletterDraftIntro: z.string(),
  inThisIssue: z.string(),
  events: z.string(),
  readMore: z.string(),
  allNewsletters: z.string(),
  /** A release page's section of the articles that cite it. */
  inThePress: z.string(),
  /** The press room's page of every article (and its link in the navigation). */
  pressCoverage: z.string(),
  /** On that page, before the release an article is about. */
  coverageAbout: z.string(),
  allCoverage: z.string(),
  unsubscribeTitle: z.string(),
  unsubscribeQuestion: z.string().includes('{list}'),
  unsubscribeButton: z.string(),
  unsubscribedTitle: z.string(),
  unsubscribedText: z.string().includes('{list}'),
  invalidLinkTitle: z.string(),
  invalidLinkText: z.string(),
  subscribeTitle: z.string(),
  subscribeIntro: z.string().includes('{list}'),
  subscribeEmailLabel: z.string(),
  subscribeNameLabel: z.string(),
  subscribeListLabel: z.string(),
  subscribeButton: z.string(),
  subscribeHoneypotLabel: z.string(),
  subscribeCheckMailTitle: z.string(),
  subscribeCheckMailText: z.string().includes('{list}').includes('{hours}'),
  subscribeInvalidEmailTitle: z.string(),
  subscribeInvalidEmailText: z.string().includes('{value}'),
  subscribeUnknownListTitle: z.string(),
  subscribeUnknownListText: z.string().includes('{value}'),
  subscribeInvalidFieldTitle: z.string(),
  subscribeInvalidFieldText: z.string().includes('{field}').includes('{max}'),
  subscribeTopicsLegend: z.string(),
  subscribeTopicsHint: z.string(),
  subscribeUnknownTopicTitle: z.string(),
  subscribeUnknownTopicText: z.string().includes('{value}').includes('{list}'),
  subscribeNoTopicText: z.string().includes('{list}'),
  subscribeFrequencyLegend: z.string(),
  subscribeFrequencyImmediate: z.string(),
  subscribeFrequencyDaily: z.string(),
  subscribeFrequencyWeekly: z.string(),
  subscribeUnknownFrequencyText: z.string().includes('{value}').includes('{list}'),
  subscribeTooManyTitle: z.string(),
  subscribeTooManyText: z.string(),
  subscribeUnavailableTitle: z.string(),
  subscribeUnavailableText: z.string(),
  confirmTitle: z.string(),
  confirmQuestion: z.string().includes('{list}'),
  confirmButton: z.string(),
  confirmName: z.string(),
  confirmedTitle: z.string(),
  confirmedText: z.string().includes('{list}'),
  confirmExpiredTitle: z.string(),
  confirmExpiredText: z.string(),
  confirmInvalidText: z.string(),
  confirmBlockedTitle: z.string(),
  confirmBlockedText: z.string().includes('{list}').includes('{contact}'),
  confirmationSubject: z.string().includes('{list}'),
  confirmationIntro: z.string().includes('{list}'),
  confirmationAction: z.string().includes('{hours}'),
  confirmationIgnore: z.string(),
  notFoundTitle: z.string(),
  notFoundText: z.string(),
  notFoundHome: z.string(),
  advanceCopyInvalidText: z.string(),
  advanceCopyExpiredText: z.string(),
  /** The press room's search box (lambdas/core/archive/search.ts). */
  searchTitle: z.string(),
  searchLabel: z.string(),
  searchButton: z.string(),
  searchOneResult: z.string(),
  searchResults: z.string().includes('{count}'),
  searchNoResult: z.string(),
  searchUnavailable: z.string(),
  searchNeedsScript: z.string(),
  /** Translations (lambdas/core/archive/translations.ts): the language switcher's name, the language pages' headings. */
  languages: z.string(),
  releasesInFr: z.string(),
  releasesInEn: z.string(),
});
export type LocaleStrings = z.infer<typeof localeStringsSchema>;

// Formatters are costly to build; dates are formatted in UTC, wall-clock shifts done before.
const dateFormat = {
  fr: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'full', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeZone: 'UTC' }),
};

/** `{place}, le {date}` with values; unknown names are left as they are. */
export function fillPattern(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** `2021-06-08` → `mardi 8 juin 2021` (fr) or `Tuesday 8 June 2021` (en); `mardi 1er juin 2021`. */
export function formatDate(isoDate: string, lang: Language): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  const date = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
  return frenchFirst(dateFormat[lang].format(date).replace(',', ''), lang);
}

/** French writes the first of the month as an ordinal: `1er juin`, not `1 juin`. */
export function frenchFirst(text: string, lang: Language): string {
  return lang === 'fr' ? text.replace(/(?<=^|\s)1(?= \p{L})/u, '1er') : text;
}

/**
 * An embargo as a publication writes it (`2021-06-08T08:00:00+02:00`), in the release's
 * embargo line: the wall-clock time written, with its offset, so the reader sees the time the
 * author meant: `mardi 8 juin 2021 à 8 h (UTC+02:00)`. The same formatter as the notice of
 * advance copies ({@link formatEmbargoTime}), which names the workspace's zone instead.
 */
export function formatDateTime(isoDateTime: string, lang: Language): string {
  const offset = /(Z|[+-]\d{2}:?\d{2})$/i.exec(isoDateTime)?.[1] ?? 'Z';
  const zone = offset.toUpperCase() === 'Z' ? 'UTC' : `UTC${offset.slice(0, 3)}:${offset.slice(-2)}`;
  return formatEmbargoTime(isoDateTime, lang, zone);
}

/** `A`, `A et B`, `A, B et C`. */
export function joinNames(names: string[], and: string): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${and} ${names.at(-1)}`;
}

/** `12 ko`, `1,2 Mo` / `12 kB`, `1.2 MB`. Formatters are built once per language and unit. */
const sizeFormats = new Map<string, Intl.NumberFormat>();
export function formatSize(bytes: number, lang: Language): string {
  const [unit, value] =
    bytes >= 1_000_000 ? ['megabyte', bytes / 1_000_000] : ['kilobyte', Math.max(1, bytes / 1000)];
  const key = `${lang}:${unit}`;
  let format = sizeFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      style: 'unit',
      unit,
      maximumFractionDigits: 1,
    });
    sizeFormats.set(key, format);
  }
  return format.format(value);
}

/** Date-time parts formatters by language and zone: built once each. */
const zonedParts = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock parts of an instant in a zone (IANA, `UTC`, or `UTC+02:00`). */
function wallClockParts(instant: Date, lang: Language, zone: string) {
  const offset = /^UTC([+-])(\d{2}):(\d{2})$/.exec(zone);
  const timeZone = offset ? 'UTC' : zone;
  const shifted = offset
    ? new Date(
        instant.getTime() +
          (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000,
      )
    : instant;
  const key = `${lang}:${timeZone}`;
  let format = zonedParts.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone,
    });
    zonedParts.set(key, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(shifted)) parts[p.type] = p.value;
  return {
    weekday: parts.weekday ?? '',
    day: parts.day ?? '',
    month: parts.month ?? '',
    year: parts.year ?? '',
    hour: String(Number(parts.hour ?? 0)),
    minute: parts.minute ?? '00',
  };
}

/** The zone as readers name it: `heure de Paris` / `Paris time`; an offset or UTC as it is. */
function zoneLabel(zone: string, lang: Language): string {
  if (zone === 'UTC' || zone.startsWith('UTC+') || zone.startsWith('UTC-') || !zone.includes('/'))
    return zone;
  const city = (zone.split('/').at(-1) ?? zone).replace(/_/g, ' ');
  if (lang === 'en') return `${city} time`;
  return /^[AEIOUYÉÈÊÎÔÛ]/i.test(city) ? `heure d’${city}` : `heure de ${city}`;
}

/**
 * An embargo's time as journalists read it, in `zone` (the workspace's): in full,
 * `mardi 8 juin 2021 à 8 h (heure de Paris)` / `Tuesday 8 June 2021, 8:00 (Paris time)`;
 * short (a subject's prefix), `8 juin 8 h` / `8 June 8:00`. French writes hours as `8 h`,
 * `8 h 30`, with no-break spaces, and the first of the month `1er`.
 */
export function formatEmbargoTime(
  instant: string | Date,
  lang: Language,
  zone: string,
  form: 'full' | 'short' = 'full',
): string {
  const w = wallClockParts(new Date(instant), lang, zone);
  const nb = '\u00a0';
  if (lang === 'fr') {
    const time = `${w.hour}${nb}h${w.minute === '00' ? '' : `${nb}${w.minute}`}`;
    const day = frenchFirst(`${w.day} ${w.month}`, lang);
    return form === 'short'
      ? `${day} ${time}`
      : `${w.weekday} ${day} ${w.year} à ${time} (${zoneLabel(zone, lang)})`;
  }
  const time = `${w.hour}:${w.minute}`;
  return form === 'short'
    ? `${w.day} ${w.month} ${time}`
    : `${w.weekday} ${w.day} ${w.month} ${w.year}, ${time} (${zoneLabel(zone, lang)})`;
}
