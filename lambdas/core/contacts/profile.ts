import { limits } from '../limits.ts';
import type { ContactField } from './fields.ts';

/**
 * Press contact profiles: the column headers an import recognises (French and English), and
 * the profile values it reads and checks: a language (a BCP 47 tag from a known list), beats
 * (a list), phone numbers and notes (free text, bounded), the do-not-contact flag. Also how
 * audiences compare outlets, beats and languages. Light (it imports only the limits): the
 * campaign schema and the command line use it too.
 */

/** `Adresse électronique` → `adresseelectronique`: lower case, no accents, letters and digits only. */
export function headerKey(header: string): string {
  return header
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]/g, '');
}

/** The headers each field is known by, as people write them (matched through {@link headerKey}). */
export const headerAliases: Record<ContactField, readonly string[]> = {
  email: [
    'email',
    'e-mail',
    'mail',
    'courriel',
    'adresse electronique',
    'adresse email',
    'adresse mail',
    'email address',
    'adresse courriel',
  ],
  firstName: ['first name', 'firstname', 'given name', 'prenom'],
  lastName: ['last name', 'lastname', 'surname', 'family name', 'nom', 'nom de famille'],
  organization: ['organisation', 'organization', 'societe', 'company', 'structure', 'employeur'],
  outlet: ['outlet', 'media', 'media outlet', 'publication', 'titre de presse', 'redaction', 'support'],
  role: ['role', 'fonction', 'poste', 'title', 'job title', 'job'],
  beats: ['beat', 'beats', 'topics', 'topic', 'rubrique', 'rubriques', 'thematique', 'thematiques'],
  language: ['language', 'langue', 'lang'],
  phone: [
    'phone',
    'telephone',
    'tel',
    'mobile',
    'portable',
    'phone number',
    'numero de telephone',
    'tel portable',
    'tel fixe',
    'ligne directe',
  ],
  notes: ['notes', 'note', 'comments', 'commentaires', 'commentaire', 'remarques'],
  doNotContact: ['do not contact', 'do not email', 'ne pas contacter', 'ne pas solliciter', 'dnc'],
  tags: ['tags', 'tag', 'etiquettes', 'mots cles', 'labels'],
};

const fieldsByHeader = new Map<string, ContactField>();
for (const [field, names] of Object.entries(headerAliases))
  for (const name of names) fieldsByHeader.set(headerKey(name), field as ContactField);

/** The field a column header means (`Téléphone`, `TEL`, `Ne pas contacter`), if any. */
export function fieldOfHeader(header: string): ContactField | undefined {
  return fieldsByHeader.get(headerKey(header));
}

/**
 * The primary language subtags accepted (ISO 639-1, the two-letter codes: every language a
 * press list is likely to name). A tag may add a script and a region: `fr-BE`, `zh-Hant-TW`.
 */
const knownLanguages = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy ' +
    'da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht ' +
    'hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky ' +
    'la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny ' +
    'oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss ' +
    'st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo ' +
    'za zh zu'
  ).split(' '),
);

/** Languages as a spreadsheet may name them, in French or English (through {@link headerKey}). */
const languageNames: Record<string, string> = {};
for (const [tag, names] of Object.entries({
  fr: ['français', 'french'],
  en: ['anglais', 'english'],
  de: ['allemand', 'german', 'deutsch'],
  es: ['espagnol', 'spanish', 'español'],
  it: ['italien', 'italian', 'italiano'],
  nl: ['néerlandais', 'dutch', 'nederlands'],
  pt: ['portugais', 'portuguese', 'português'],
  ar: ['arabe', 'arabic'],
  br: ['breton'],
  oc: ['occitan'],
  ca: ['catalan', 'català'],
  eu: ['basque', 'euskara'],
  co: ['corse', 'corsican'],
  zh: ['chinois', 'chinese'],
  ru: ['russe', 'russian'],
  pl: ['polonais', 'polish'],
  ja: ['japonais', 'japanese'],
}))
  for (const name of names) languageNames[headerKey(name)] = tag;

/**
 * A language as a BCP 47 tag in its canonical case (`fr`, `fr-BE`, `zh-Hant-TW`), from a tag
 * in any case (`FR`, `fr_be`) or a name (`Français`, `English`); undefined when it is neither
 * or its language is not a known one.
 */
export function languageTag(value: string): string | undefined {
  // A press list says `fr` thousands of times: each spelling is read once (forgotten past 1,000).
  if (knownTags.has(value)) return knownTags.get(value);
  const tag = readLanguageTag(value);
  if (knownTags.size >= 1_000) knownTags.clear();
  knownTags.set(value, tag);
  return tag;
}

const knownTags = new Map<string, string | undefined>();

function readLanguageTag(value: string): string | undefined {
  const named = languageNames[headerKey(value)];
  if (named) return named;
  const written = value.trim().replace(/_/g, '-');
  if (!/^[a-z]{2}(-[a-z0-9]{1,8})*$/i.test(written)) return undefined;
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(written)[0];
  } catch {
    return undefined;
  }
  const primary = canonical?.split('-')[0];
  return canonical && primary && knownLanguages.has(primary) && canonical.length <= limits.contactLanguage
    ? canonical
    : undefined;
}

export const languageAdvice =
  'write a BCP 47 language tag such as "fr", "en" or "fr-BE" (or the name: "français", "English")';

/** Whether a contact's language is in a range (`fr` takes in `fr-BE`; `fr-BE` only itself). */
export function languageMatches(tag: string | undefined, range: string): boolean {
  if (!tag) return false;
  const t = tag.toLowerCase();
  const r = range.toLowerCase();
  return t === r || t.startsWith(`${r}-`);
}

/**
 * How outlets and beats are compared: case, accents, spaces and punctuation aside, so that
 * `L’Hebdo local`, `l'hebdo local` and `LHEBDO LOCAL` are one outlet.
 */
export function matchKey(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Beats as a cell writes them: separated by `;`, `,` or `|`, each once (as {@link matchKey} sees them). */
export function splitBeats(value: string): string[] {
  const seen = new Set<string>();
  const beats: string[] = [];
  for (const part of value.split(/[,;|]/)) {
    const beat = part.trim().replace(/\s+/g, ' ');
    const key = matchKey(beat);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    beats.push(beat);
  }
  return beats;
}

/**
 * A beats cell read and checked, or the problem: remembered, since a press list repeats the
 * same few cells thousands of times (forgotten past 1,000).
 */
function beatsOf(value: string): readonly string[] | string {
  let read = knownBeats.get(value);
  if (read === undefined) {
    const beats = splitBeats(value);
    const long = beats.find((b) => b.length > limits.contactBeat);
    read = long
      ? `a beat has ${long.length} characters, more than the limit of ${limits.contactBeat}: separate beats with ";" or ","`
      : beats.length > limits.contactBeats
        ? tooManyBeats(beats.length)
        : beats;
    if (knownBeats.size >= 1_000) knownBeats.clear();
    knownBeats.set(value, read);
  }
  return read;
}

const knownBeats = new Map<string, readonly string[] | string>();

const tooManyBeats = (count: number) => `${count} beats, more than the limit of ${limits.contactBeats}`;

/** Beats added to beats, each once. */
export function addBeats(to: readonly string[], more: readonly string[]): string[] {
  return splitBeats([...to, ...more].join(';'));
}

const yes = new Set(['oui', 'o', 'yes', 'y', 'true', 'vrai', '1', 'x']);
const no = new Set(['non', 'n', 'no', 'false', 'faux', '0']);

/** A do-not-contact cell: true, false, or undefined when it is neither yes nor no. */
export function readYesNo(value: string): boolean | undefined {
  const key = headerKey(value);
  if (yes.has(key) || value.trim() === '✓' || value.trim() === '✔') return true;
  if (no.has(key)) return false;
  return undefined;
}

/** The profile values an import reads with more than a length check. */
export interface ProfileValues {
  language?: string;
  phone?: string;
  notes?: string;
  beats?: string[];
  doNotContact?: boolean;
}

export type ProfileField = keyof ProfileValues;

export function isProfileField(field: ContactField): field is ProfileField {
  return (
    field === 'language' ||
    field === 'phone' ||
    field === 'notes' ||
    field === 'beats' ||
    field === 'doNotContact'
  );
}

/**
 * Reads one cell of a profile field into `row`: the language checked and written as a tag;
 * beats split and added; phones and notes from several columns joined; do-not-contact read as
 * yes or no. The problem, when the value cannot be taken (the caller adds the value). Lengths
 * and control characters are the caller's to check first.
 */
export function addProfileValue(row: ProfileValues, field: ProfileField, value: string): string | undefined {
  switch (field) {
    case 'language': {
      const tag = languageTag(value);
      if (!tag) return `not a language pressroom knows: ${languageAdvice}`;
      row.language ??= tag;
      return undefined;
    }
    case 'beats': {
      const read = beatsOf(value);
      if (typeof read === 'string') return read;
      const beats = row.beats ? addBeats(row.beats, read) : [...read];
      if (beats.length > limits.contactBeats) return tooManyBeats(beats.length);
      row.beats = beats;
      return undefined;
    }
    case 'phone':
    case 'notes': {
      if (field === 'phone' && /[\t\n\r]/.test(value))
        return 'a phone number is one line: no tab nor new line (several numbers: separate them with "/")';
      const separator = field === 'phone' ? ' / ' : '\n';
      const before = row[field];
      if (before?.split(separator).includes(value)) return undefined;
      const joined = before ? `${before}${separator}${value}` : value;
      const max = field === 'phone' ? limits.contactPhone : limits.contactNotes;
      if (joined.length > max) return `${joined.length} characters, more than the limit of ${max}`;
      row[field] = joined;
      return undefined;
    }
    case 'doNotContact': {
      const flag = readYesNo(value);
      if (flag === undefined)
        return 'do-not-contact is "oui"/"yes" (or x, 1, true) or "non"/"no" (or 0, false), or an empty cell';
      if (flag) row.doNotContact = true;
      return undefined;
    }
  }
}
