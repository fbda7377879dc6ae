import type { Language } from '../publication/schema.ts';

/**
 * The problems' messages in the admin's language. The core writes them in English, the same
 * for the command line, the API and the logs; the admin's pages show them in French to a
 * French user. This table translates the messages the publication schema and the form make
 * (lambdas/core/publication/schema.ts, lambdas/core/input.ts, form.ts), matched on their
 * fixed English words, the values they quote kept as they are. A message it does not know
 * stays in English: nothing is lost, it is only not translated.
 */

type Translation = [RegExp, (...parts: string[]) => string];

const socialHelp =
  'doit être l’adresse https du profil, ou un identifiant : « @nom » (X, Twitter, Instagram, YouTube), « @nom@serveur » (Mastodon), « nom.bsky.social » (Bluesky), « company/nom » ou « in/nom » (LinkedIn), « nom » (Facebook)';

const list: Record<string, string> = {
  publishers: 'émetteurs',
  quotes: 'citations',
  figures: 'chiffres clés',
  links: 'liens',
  attachments: 'pièces jointes',
  images: 'images',
  tags: 'étiquettes',
};

const french: Translation[] = [
  [/^must not be empty$/, () => 'ne doit pas être vide'],
  [
    /^is too long: ([\d,]+) characters, at most ([\d,]+)$/,
    (n, m) => `est trop long : ${n} caractères, au plus ${m}`,
  ],
  [/^has (\d+) (\w+), at most (\d+)$/, (n, what, m) => `compte ${n} ${list[what] ?? what}, au plus ${m}`],
  [/^needs at least one publisher$/, () => 'il faut au moins un émetteur'],
  [
    /^must be an absolute http:\/\/ or https:\/\/ URL with a domain name, e\.g\. "(.*)"$/,
    (example) =>
      `doit être une adresse http:// ou https:// complète avec un nom de domaine, par exemple « ${example} »`,
  ],
  [
    /^must be a real calendar date written YYYY-MM-DD, e\.g\. (.*)$/,
    (example) => `doit être une vraie date écrite AAAA-MM-JJ, par exemple ${example}`,
  ],
  [
    /^has no time zone, so the moment is unknown: write the zone after the time, e\.g\. "(.*)", or the UTC offset, e\.g\. "(.*)"$/,
    (zone, offset) =>
      `n’a pas de fuseau horaire, l’instant est donc inconnu : écrivez le fuseau après l’heure, par exemple « ${zone} », ou le décalage UTC, par exemple « ${offset} »`,
  ],
  [
    /^must be lower-case letters and digits joined by single hyphens, e\.g\. "(.*)"$/,
    (example) =>
      `doit être fait de minuscules et de chiffres reliés par un seul tiret, par exemple « ${example} »`,
  ],
  [/^must be "fr" or "en"$/, () => 'doit être « fr » ou « en »'],
  [/^must be "public" or "private"$/, () => 'doit être « public » ou « private »'],
  [
    /^must be an email address such as (.*)$/,
    (example) => `doit être une adresse électronique, comme ${example}`,
  ],
  [
    /^must be a hex colour such as "(.*)"$/,
    (example) => `doit être une couleur hexadécimale, comme « ${example} »`,
  ],
  [
    /^must be a phone number such as "(.*)"$/,
    (example) => `doit être un numéro de téléphone, comme « ${example} »`,
  ],
  [
    /^must be the id of an organisation file, e\.g\. "(.*)"$/,
    (example) => `doit être l’identifiant d’un fichier d’organisation, par exemple « ${example} »`,
  ],
  [
    /^must be a path relative to the publication file, inside its folder \(no "\.\.", not absolute\)$/,
    () => 'doit être un chemin relatif au fichier du communiqué, dans son dossier (sans « .. », pas absolu)',
  ],
  [/^must be an https URL of the profile, or a handle: .*$/, () => socialHelp],
  [
    /^contains a control character \(such as NUL, U\+0000\), which no text should hold: remove it$/,
    () =>
      'contient un caractère de contrôle (comme NUL, U+0000), qu’aucun texte ne doit contenir : supprimez-le',
  ],
  [/^is required \((.*)\) but is missing$/, () => 'est obligatoire mais manque'],
  [/^unknown field "(.*?)"[:.].*$/, (key) => `champ inconnu « ${key} »`],
  [
    /^has too many rows: at most (\d+) (\w+); remove some$/,
    (m, what) => `a trop de lignes : au plus ${m} ${list[what] ?? what} ; supprimez-en`,
  ],
  [
    /^"(.*)" is not a file of the workspace's publications\/(\w+)\/ folder: put the file there, then choose it in the list$/s,
    (file, folder) =>
      `« ${file} » n’est pas un fichier du dossier publications/${folder}/ de l’espace de travail : déposez-y le fichier, puis choisissez-le dans la liste`,
  ],
  [
    /^the form sent a field this form does not have, "(.*)": reload the form and fill it again$/s,
    (name) =>
      `le formulaire a envoyé un champ qu’il n’a pas, « ${name} » : rechargez le formulaire et remplissez-le à nouveau`,
  ],
];

// The compose form's own (campaigns.ts).
french.push(
  [
    /^holds a line break or another control character \(CR, LF, tab…\): write the subject on one line$/,
    () =>
      'contient un saut de ligne ou un autre caractère de contrôle (CR, LF, tabulation…) : écrivez l’objet sur une seule ligne',
  ],
  [
    /^"(.*)" is not one of the senders offered \(the workspace's sender, its organisations' addresses\): choose one of them$/s,
    (from) =>
      `« ${from} » n’est pas l’un des expéditeurs proposés (celui de l’espace de travail, les adresses de ses organisations) : choisissez-en un`,
  ],
  [
    /^choose at least one list the campaign goes to: the lists contacts are on \(import contacts into a list\) and those pressroom\.yaml declares$/,
    () =>
      'choisissez au moins une liste : celles où sont des contacts (importez des contacts dans une liste) et celles que déclare pressroom.yaml',
  ],
);

const tables: Partial<Record<Language, Translation[]>> = { fr: french };

/** `message` in `lang` when the table knows it; else as the core wrote it (English). */
export function translateProblem(message: string, lang: Language): string {
  for (const [pattern, translate] of tables[lang] ?? []) {
    const match = pattern.exec(message);
    if (match) return translate(...match.slice(1));
  }
  return message;
}
