import { z } from 'zod';
import { campaignFileSchema } from '../campaigns/campaign.ts';
import { InvalidInputError, type Problem } from '../errors.ts';
import { parseYaml, validate } from '../input.ts';
import { email, type Language, language, languages } from '../publication/schema.ts';
import { listName } from './model.ts';

/**
 * The lists open to self-service subscription (`lists.yaml`): only these may be named by
 * the public form. Every other list (a press list imported from a spreadsheet, say) stays
 * closed, whatever a request says.
 */

const text = z.string().trim().min(1, 'must not be empty');

const title = z.union([
  text,
  z
    .strictObject({ fr: text.optional(), en: text.optional() })
    .refine((t) => t.fr !== undefined || t.en !== undefined, 'give the title in fr, en or both'),
]);

const listSettings = z.strictObject({
  title: title.describe('Shown on pages and in the confirmation email: text, or { fr, en }'),
  lang: language.default('fr').describe('Language of pages and emails when the request names none'),
  from: campaignFileSchema.shape.from.describe('Sender of the confirmation email'),
  replyTo: email.optional(),
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
}

/** By list name. */
export type SubscribableLists = Readonly<Record<string, SubscribableList>>;

/** Reads and checks `lists.yaml`; every problem is reported with its line. */
export function parseSubscribableLists(source: string, file: string): SubscribableLists {
  const parsed = parseYaml(source, file);
  const checked = validate(subscribableListsSchema, parsed);
  const problems: Problem[] = checked.ok ? [] : checked.problems;
  const data = parsed.data as { lists?: unknown } | null;
  if (data?.lists && typeof data.lists === 'object') {
    for (const name of Object.keys(data.lists)) {
      const result = listName.safeParse(name);
      if (!result.success) {
        problems.unshift({
          file,
          ...parsed.locateKey(['lists'], name),
          path: `lists.${name}`,
          message: result.error.issues[0]?.message ?? 'not a list name',
          value: name,
        });
      }
    }
  }
  if (!checked.ok || problems.length > 0) throw new InvalidInputError(problems);
  const lists: Record<string, SubscribableList> = {};
  for (const [name, l] of Object.entries(checked.value.lists)) {
    const given = typeof l.title === 'string' ? { fr: l.title, en: l.title } : l.title;
    const fallback = (given.fr ?? given.en) as string;
    lists[name] = {
      name,
      title: Object.fromEntries(languages.map((lang) => [lang, given[lang] ?? fallback])) as Record<
        Language,
        string
      >,
      lang: l.lang,
      from: l.from,
      ...(l.replyTo !== undefined && { replyTo: l.replyTo }),
    };
  }
  return lists;
}

/** The list named, if it is open to subscription. */
export function subscribableList(lists: SubscribableLists, name: string): SubscribableList | undefined {
  return Object.hasOwn(lists, name) ? lists[name] : undefined;
}
