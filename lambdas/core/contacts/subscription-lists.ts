import * as z from 'zod';
import { type AlertFrequency, type AlertTopic, alertFrequencies } from '../alerts/topics.ts';
import { sender } from '../campaigns/campaign.ts';
import { InvalidInputError, type Problem } from '../errors.ts';
import { type LocatedYaml, parseYaml, validate } from '../input.ts';
import { email, type Language, language, languages, slug } from '../publication/schema.ts';
import { listName } from './model.ts';

/**
 * The lists open to self-service subscription: only these may be named by the public form.
 * Every other list (a press list imported from a spreadsheet, say) stays closed, whatever a
 * request says. They come from a workspace's `pressroom.yaml` (`subscription: open`), or
 * from a `lists.yaml` file (every list in it is open).
 */

const text = z.string().trim().min(1, 'must not be empty');

/** A list's title: one text for every language, or `{ fr, en }`. */
export const listTitle = z.union([
  text,
  z
    .strictObject({ fr: text.optional(), en: text.optional() })
    .refine((t) => t.fr !== undefined || t.en !== undefined, 'give the title in fr, en or both'),
]);

/** The title in each language (the other language's when only one was given). */
export function titleInEachLanguage(given: z.output<typeof listTitle>): Record<Language, string> {
  const titles = typeof given === 'string' ? { fr: given, en: given } : given;
  const fallback = (titles.fr ?? titles.en) as string;
  return Object.fromEntries(languages.map((lang) => [lang, titles[lang] ?? fallback])) as Record<
    Language,
    string
  >;
}

/**
 * The topics an alert list offers, by tag slug, each with its label: text, or `{ fr, en }`.
 * Keys are checked one by one (topicKeyProblems), so that a bad one is reported with its line.
 */
export const listTopics = z
  .record(z.string(), listTitle)
  .refine((topics) => Object.keys(topics).length > 0, 'name at least one topic, or leave topics out')
  .describe(
    'Topic alerts: the topics subscribers may pick, by tag slug, each with its label (text or { fr, en }); a release with one of these tags is mailed to them',
  );

/** The topics as offered, in the order of the file. */
export function alertTopics(given: z.output<typeof listTopics>): AlertTopic[] {
  return Object.entries(given).map(([tag, label]) => ({ tag, label: titleInEachLanguage(label) }));
}

/** How often an alert list's subscribers may be alerted; the first is ticked on the form. */
export const listFrequencies = z
  .array(z.enum(alertFrequencies, { error: 'must be immediate, daily or weekly' }))
  .min(1, 'name at least one of immediate, daily, weekly, or leave frequencies out')
  .refine((f) => new Set(f).size === f.length, 'names a frequency twice')
  .describe(
    'Topic alerts: how often subscribers may choose to be alerted, the first ticked on the form: immediate (each release), daily or weekly (a digest at 08:00, weekly on Mondays). Default [immediate]',
  );

const listSettings = z.strictObject({
  title: listTitle.describe('Shown on pages and in the confirmation email: text, or { fr, en }'),
  lang: language.default('fr').describe('Language of pages and emails when the request names none'),
  from: sender.describe('Sender of the confirmation email'),
  replyTo: email.optional(),
  topics: listTopics.optional(),
  frequencies: listFrequencies.optional(),
});

export const subscribableListsSchema = z
  .strictObject({
    // Names are checked one by one below, so that a bad name is reported with its line.
    lists: z.record(z.string(), listSettings),
  })
  .describe('Lists open to subscription from the public form');

export interface SubscribableList {
  name: string;
  /** The title in each language (the other language's when only one was given). */
  title: Record<Language, string>;
  lang: Language;
  from: { name: string; address: string };
  replyTo?: string;
  /** An alert list's topics (topic alerts: alerts/topics.ts); absent for any other list. */
  topics?: AlertTopic[];
  /** An alert list's frequencies on offer, the first the default; absent: immediate alerts only. */
  frequencies?: AlertFrequency[];
}

/** By list name. */
export type SubscribableLists = Readonly<Record<string, SubscribableList>>;

/** The list names under `lists:` that are not valid list names, each with its line. */
export function listNameProblems(parsed: LocatedYaml): Problem[] {
  const data = parsed.data as { lists?: unknown } | null;
  if (!data?.lists || typeof data.lists !== 'object') return [];
  const problems: Problem[] = [];
  for (const name of Object.keys(data.lists)) {
    const result = listName.safeParse(name);
    if (!result.success) {
      problems.push({
        file: parsed.file,
        ...parsed.locateKey(['lists'], name),
        path: `lists.${name}`,
        message: result.error.issues[0]?.message ?? 'not a list name',
        value: name,
      });
    }
  }
  return [...problems, ...topicKeyProblems(parsed)];
}

/**
 * The topic keys under `lists.<name>.topics` that are not tag slugs, each with its line: a
 * topic is a tag as the press room names it (`numerique` for `Numérique`), or no release could
 * ever match it.
 */
function topicKeyProblems(parsed: LocatedYaml): Problem[] {
  const lists = (parsed.data as { lists?: unknown } | null)?.lists;
  if (!lists || typeof lists !== 'object') return [];
  const problems: Problem[] = [];
  for (const [name, settings] of Object.entries(lists)) {
    const topics = (settings as { topics?: unknown } | null)?.topics;
    if (!topics || typeof topics !== 'object') continue;
    for (const key of Object.keys(topics)) {
      if (slug.safeParse(key).success) continue;
      problems.push({
        file: parsed.file,
        ...parsed.locateKey(['lists', name, 'topics'], key),
        path: `lists.${name}.topics.${key}`,
        message: `is not a tag slug: a topic is a tag as the press room names it, in lower case letters, digits and hyphens (e.g. "numerique" for the tag "Numérique")`,
        value: key,
      });
    }
  }
  return problems;
}

/** Reads and checks `lists.yaml`; every problem is reported with its line. */
export function parseSubscribableLists(source: string, file: string): SubscribableLists {
  const parsed = parseYaml(source, file);
  const checked = validate(subscribableListsSchema, parsed);
  const problems: Problem[] = [...listNameProblems(parsed), ...(checked.ok ? [] : checked.problems)];
  if (!checked.ok || problems.length > 0) throw new InvalidInputError(problems);
  const lists: Record<string, SubscribableList> = {};
  for (const [name, l] of Object.entries(checked.value.lists)) {
    lists[name] = {
      name,
      title: titleInEachLanguage(l.title),
      lang: l.lang,
      from: l.from,
      ...(l.replyTo !== undefined && { replyTo: l.replyTo }),
      ...(l.topics !== undefined && { topics: alertTopics(l.topics) }),
      ...(l.frequencies !== undefined && { frequencies: l.frequencies }),
    };
  }
  return lists;
}

/** The list named, if it is open to subscription. */
export function subscribableList(lists: SubscribableLists, name: string): SubscribableList | undefined {
  return Object.hasOwn(lists, name) ? lists[name] : undefined;
}
