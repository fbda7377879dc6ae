/**
 * The languages pressroom writes in (its locales under templates/locales/). A module of its
 * own, importing nothing, so that the command line's definitions can offer them as choices
 * without loading the publication schema.
 */
export const languages = ['fr', 'en'] as const;
export type Language = (typeof languages)[number];

/** `fr` or `en` when the value names one of them (`fr`, `FR`, `fr-BE`, `en_GB`). */
export function languageNamed(value: string | undefined): Language | undefined {
  const primary = value?.trim().toLowerCase().split(/[-_]/)[0];
  return languages.find((l) => l === primary);
}

/** Each language named in itself, as a language switcher shows it. */
export const languageNames: Record<Language, string> = { fr: 'Français', en: 'English' };
