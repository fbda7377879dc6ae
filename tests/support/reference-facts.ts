import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The facts of the seed release (names, figures, dates, places, quotes, contacts,
 * addresses), each an exact phrase of the reference press release the seed was taken from
 * (`tests/fixtures/reference/`, a copy of the shared reference). A test asserts that each
 * phrase is in the reference, so the list cannot drift from it, and that each is in every
 * rendered format.
 */

export const referenceFile = path.join(
  import.meta.dirname,
  '../fixtures/reference/press-release-2021-06-08-villes-internet.txt',
);

/**
 * The reference's text, white space normalised. It was saved from a web page whose
 * no-break spaces stand anywhere ("Par\u00a0Michaël", "[email\u00a0protected]"): here they
 * all read as spaces. Rendered formats are held to the stricter `normalizeForFacts`.
 */
export function readReference(): string {
  return readFileSync(referenceFile, 'utf8')
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

export const referenceFacts: Readonly<Record<string, readonly string[]>> = {
  names: [
    'Villes Internet',
    'Villes de France',
    'Caroline Cayeux',
    'Mathieu Vidal',
    'Nicolas Rio',
    'Anne Faure',
    'Jean-François Debat',
    'Florence Poznanski',
    'Adrian Philip',
    'Michaël Bideault',
    'France Stratégie',
    'Territoires, Villes et Villages Internet',
  ],
  headings: [
    'Gestion de crise avec le numérique : les villes moyennes résilientes',
    '“Numérique et gestion de crise locale : des enseignements pour penser l’avenir des villes”',
    'Agir et penser le numérique post crise',
    'Deux experts témoignent',
  ],
  figures: [
    '97 contributions',
    '31 villes moyennes et intercommunalités',
    'plus de 8000 élus, agents et acteurs locaux',
    'fondée en 2002',
    'les villes de 10 000 à 100 000 habitants',
  ],
  dates: [
    'publient ce mardi 8 juin',
    'Saumur (49) @@@ 2019',
    'Beauvais (60) @@@@@ 2021',
    'Martigues (13) @@@@@ 2021',
    'Béthune (62) @@@@ 2020',
  ],
  places: [
    'maire de Beauvais',
    'maire de Bourg-en-Bresse',
    'sur l’ensemble du territoire métropolitain et ultramarin',
  ],
  quotes: [
    'Si cette crise a révélé tout le potentiel d’attractivité de nos villes moyennes, elle a également démontré les opportunités et les risques du numérique pour nos territoires',
    'Et si la crise nous permettait de tout repenser différemment ? Les élus locaux ont un pouvoir d’agir et de penser l’avenir aussi inédit que la situation contemporaine',
    'Caroline Cayeux, présidente de Villes de France',
    'Mathieu Vidal, président de Villes Internet',
    'Nicolas Rio, chercheur en stratégies territoriales',
    'Anne Faure, cheffe de projet économie numérique à France Stratégie',
    'présidée par Caroline Cayeux, maire de Beauvais',
    'dont le président délégué est Jean-François Debat, maire de Bourg-en-Bresse',
  ],
  contacts: [
    'Tél. : +33 1 55 06 09 30',
    'Twitter : @Villes_Internet',
    'Tél. : +33 1 45 44 99 61',
    'Twitter : @villes2fr',
    'Contact Presse : Florence Poznanski',
    'Contact Presse : Adrian Philip',
    'Par Michaël Bideault',
  ],
  addresses: ['68 boulevard Malesherbes', '75008 Paris – France', '94 rue de Sèvres', '75007 Paris – France'],
  text: [
    'Les associations d’élus Villes Internet et Villes de France',
    'Une enquête inédite qui analyse les actions numériques mises en place par les collectivités locales',
    'Villes Internet, association transpolitique fondée en 2002',
    'Villes de France, association d’élus pluraliste',
    'développement de l’Internet citoyen et du numérique urbain dans les territoires',
    'qui forment l’armature urbaine de notre pays',
    'la crise sanitaire a refondé le rapport au numérique de notre société',
  ],
};

/** Every fact with its kind, in order. */
export const allReferenceFacts: { kind: string; fact: string }[] = Object.entries(referenceFacts).flatMap(
  ([kind, facts]) => facts.map((fact) => ({ kind, fact })),
);

/**
 * Text as a reader compares it: runs of white space as one space, and the no-break spaces
 * French typography puts before ":" ";" "!" "?" and inside « », and the one that binds a
 * label to its value after its colon ("Tél.\u00a0:\u00a0+33…", kept on one line on a phone),
 * read as spaces. A no-break space anywhere else is kept, so it still counts as a difference.
 */
export function normalizeForFacts(text: string): string {
  return text
    .replace(/[\u00a0\u202f](?=[:;!?»])|(?<=[«:])[\u00a0\u202f]/g, ' ')
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();
}

const inlineTags = new Set([
  'a',
  'abbr',
  'b',
  'em',
  'i',
  'mark',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'time',
  'u',
]);
const namedEntities: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** The visible text of an HTML document: styles, head and comments out, entities decoded. */
export function visibleText(html: string): string {
  return html
    .replace(/<head[\s\S]*?<\/head>|<style[\s\S]*?<\/style>|<!--[\s\S]*?-->/gi, ' ')
    .replace(/<\/?([a-zA-Z][a-zA-Z0-9-]*)[^>]*>/g, (_, name: string) =>
      inlineTags.has(name.toLowerCase()) ? '' : ' ',
    )
    .replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (all, dec, hex, name) =>
      dec || hex
        ? String.fromCodePoint(Number.parseInt(dec ?? hex, dec ? 10 : 16))
        : (namedEntities[String(name).toLowerCase()] ?? all),
    );
}

/** The facts missing from a text (HTML first turned into its visible text). */
export function missingFacts(text: string): string[] {
  const haystack = normalizeForFacts(text);
  return allReferenceFacts.map((f) => f.fact).filter((fact) => !haystack.includes(normalizeForFacts(fact)));
}
