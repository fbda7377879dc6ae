import type { Language } from '../publication/languages.ts';
import { getJson, type ObjectStore } from '../store/object-store.ts';
import type { PublicityOf, ReleaseSummary } from './catalog.ts';

/**
 * The groups of translated releases (translations.ts), as publishing keeps them and sending
 * reads them: apart from the rest of translations.ts, so that the send function's bundle
 * takes this alone.
 */

export const translationKeys = { index: 'catalog/translations.json' };

/** A release of a group, as its index keeps it. */
export interface TranslationMember extends PublicityOf {
  slug: string;
  lang: Language;
  year: string;
}

export interface TranslationIndex {
  groups: Record<string, TranslationMember[]>;
}

export async function readTranslationGroups(store: ObjectStore): Promise<TranslationIndex['groups']> {
  return (await getJson<TranslationIndex>(store, translationKeys.index))?.value.groups ?? {};
}

/** The members of a release's group (itself among them), or none when it has no translation. */
export function groupOf(
  groups: TranslationIndex['groups'],
  release: Pick<ReleaseSummary, 'slug' | 'translationOf'>,
): TranslationMember[] {
  const members = groups[release.translationOf ?? release.slug] ?? [];
  return members.length > 1 ? members : [];
}
