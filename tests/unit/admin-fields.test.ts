/**
 * Every field of the publication format in the admin's forms (lambdas/core/admin/form.ts,
 * templates/admin/fields.html.hbs): the form a page renders, read back as a browser posts it,
 * gives the front matter it came from (every field, the lists as rows); the example releases
 * opened and saved unchanged stay byte for byte the same, and an edited quote rewrites only its
 * key. Hostile forms (names that are no field, hundreds of rows, files from elsewhere) are
 * refused; the problems' messages are in French for a French user; the language switch keeps
 * its choice and goes back to the admin only.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAdminTemplates, workspaceReleaseSources } from '../../lambdas/adapters/admin-files.ts';
import { localFiles } from '../../lambdas/adapters/local-files.ts';
import { editPublicationText } from '../../lambdas/core/admin/edit.ts';
import {
  addedRows,
  type FormChoices,
  formLists,
  newReleaseFrontMatter,
  readForm,
} from '../../lambdas/core/admin/form.ts';
import { answerLanguage, chosenLanguage, languageCookie } from '../../lambdas/core/admin/language.ts';
import type { AdminTemplates } from '../../lambdas/core/admin/pages.ts';
import { adminPages } from '../../lambdas/core/admin/pages.ts';
import { translateProblem } from '../../lambdas/core/admin/problem-translations.ts';
import type { FieldProblem, ReleaseDetail } from '../../lambdas/core/admin/releases.ts';
import { type LocatedYaml, parseYaml, splitFrontMatter, validate } from '../../lambdas/core/input.ts';
import { publicationFrontMatterSchema } from '../../lambdas/core/publication/schema.ts';
import { repo } from '../support/cli.ts';

const examples = path.join(repo, 'examples');
let templates: AdminTemplates;
let choices: FormChoices;

beforeAll(async () => {
  templates = await loadAdminTemplates();
  const sources = workspaceReleaseSources(examples, localFiles());
  choices = {
    organizations: await sources.organizations(),
    ...((await sources.pressKitFiles?.()) ?? { attachments: [], images: [] }),
  };
});

/** What the admin reads of a file: its front matter as data, its body. */
function opened(text: string): { frontMatter: Record<string, unknown>; body: string } {
  const split = splitFrontMatter(text, 'x.md');
  return {
    frontMatter: parseYaml(split.yaml, 'x.md', split.yamlFirstLine).data as Record<string, unknown>,
    body: split.body,
  };
}

/** Text as Handlebars escaped it, back (htmlparser2 leaves a text area's content as it is). */
function unescaped(text: string): string {
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) =>
    name.startsWith('#x')
      ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
      : name.startsWith('#')
        ? String.fromCodePoint(Number(name.slice(1)))
        : (named[name] ?? whole),
  );
}

/**
 * The fields a browser posts for the form of `html`, in order: text inputs and hidden ones,
 * checked boxes, the selected option of each select, text areas (less the newline after their
 * tag, which HTML drops). Submit buttons are not sent.
 */
function submitted(html: string): URLSearchParams {
  const fields = new URLSearchParams();
  let area: { name: string; text: string } | undefined;
  let select: { name: string; value?: string; first?: string } | undefined;
  let option: { value: string; selected: boolean } | undefined;
  const parser = new Parser(
    {
      onopentag(tag, a) {
        if (tag === 'input' && a.name && a.type !== 'submit') {
          if (a.type !== 'checkbox' || 'checked' in a) fields.append(a.name, a.value ?? '');
        } else if (tag === 'textarea' && a.name) area = { name: a.name, text: '' };
        else if (tag === 'select' && a.name) select = { name: a.name };
        else if (tag === 'option' && select) option = { value: a.value ?? '', selected: 'selected' in a };
      },
      ontext(text) {
        if (area) area.text += unescaped(text);
      },
      onclosetag(tag) {
        if (tag === 'textarea' && area) {
          fields.append(area.name, area.text.replace(/^\n/, ''));
          area = undefined;
        } else if (tag === 'option' && select && option) {
          select.first ??= option.value;
          if (option.selected) select.value = option.value;
          option = undefined;
        } else if (tag === 'select' && select) {
          fields.append(select.name, select.value ?? select.first ?? '');
          select = undefined;
        }
      },
    },
    { decodeEntities: true },
  );
  // The release's form, not the sign-out form of the layout.
  const start = html.indexOf('id="release-form"');
  parser.write(html.slice(html.lastIndexOf('<form', start), html.indexOf('</form>', start)));
  parser.end();
  return fields;
}

/** Data to validate, as if read from a file (no lines: it was posted). */
function located(data: unknown): LocatedYaml {
  return {
    file: 'x.md',
    data,
    locate: () => undefined,
    locateKey: () => undefined,
    lineText: () => undefined,
  };
}

function detail(file: string, frontMatter: Record<string, unknown>, body: string): ReleaseDetail {
  return { slug: 'x', file, tags: [], problems: 0, frontMatter, body, problemList: [], version: 'v' };
}

/** The edit page of a front matter, as the admin renders it. */
function editPage(
  frontMatter: Record<string, unknown>,
  body: string,
  problems: FieldProblem[] = [],
  lang: 'fr' | 'en' = 'en',
) {
  return adminPages(templates, lang).edit({
    csrf: 'c',
    release: detail('publications/x.md', frontMatter, body),
    frontMatter,
    body,
    version: 'v',
    choices,
    problems,
  });
}

/** The lines of the file that differ, with the top-level key each is under. */
function changedKeys(before: string, after: string): string[] {
  const keyOf = (lines: string[]) => {
    let key = '';
    return lines.map((line) => {
      key = /^([A-Za-z]+):/.exec(line)?.[1] ?? (line === '---' ? '---' : key);
      return key;
    });
  };
  const a = before.split('\n');
  const b = after.split('\n');
  const keysA = keyOf(a);
  const keysB = keyOf(b);
  // Lines of keys whose lines are not the same, in either file.
  const spans = (lines: string[], keys: string[]) => {
    const by = new Map<string, string[]>();
    for (const [i, line] of lines.entries()) by.set(keys[i] ?? '', [...(by.get(keys[i] ?? '') ?? []), line]);
    return by;
  };
  const x = spans(a, keysA);
  const y = spans(b, keysB);
  return [...new Set([...x.keys(), ...y.keys()])].filter(
    (key) => JSON.stringify(x.get(key)) !== JSON.stringify(y.get(key)),
  );
}

/** The seed release, and the fields its edit form posts untouched. */
async function seedForm() {
  const file = releaseFiles[0] ?? '';
  const text = await readFile(path.join(examples, file), 'utf8');
  const { frontMatter, body } = opened(text);
  return { file, text, frontMatter, body, form: submitted(editPage(frontMatter, body)) };
}

const releaseFiles = [
  'publications/2021-06-08-numerique-gestion-de-crise.md',
  'publications/2024-03-12-barometre-open-data.md',
  'publications/2024-03-12-open-data-barometer.md',
];

describe('the edit form of the example releases', () => {
  it.each(releaseFiles)(
    '%s: opened and saved unchanged through the form, it stays byte for byte the same',
    async (file) => {
      const text = await readFile(path.join(examples, file), 'utf8');
      const { frontMatter, body } = opened(text);
      const form = submitted(editPage(frontMatter, body));
      const read = readForm(frontMatter, form, choices);
      expect(read.problems).toEqual([]);
      expect(read.frontMatter).toEqual(frontMatter);
      expect(
        editPublicationText(text, { frontMatter: read.frontMatter, body: form.get('body') ?? '' }, file),
      ).toBe(text);
    },
  );

  it('shows every field: publishers (check boxes and organisations written in it), quotes, figures, links, attachments, images', async () => {
    const text = await readFile(path.join(examples, releaseFiles[1] ?? ''), 'utf8');
    const { frontMatter, body } = opened(text);
    const form = submitted(editPage(frontMatter, body));
    const english = opened(await readFile(path.join(examples, releaseFiles[2] ?? ''), 'utf8'));
    const englishForm = submitted(editPage(english.frontMatter, english.body));
    expect(form.get('publishers[0].name')).toBe('Open Cities Federation');
    expect(form.get('publishers[0].pressContact.email')).toBe('press@open-cities.example.org');
    expect(form.get('publishers[1].website')).toBe('https://civic-information.example.org');
    expect(form.get('quotes[0].author')).toBe('Maria Sample');
    expect(form.get('figures[2].value')).toBe('67 %');
    expect(form.get('links[0].url')).toBe('https://www.open-cities.example.org/barometer/2024');
    expect(form.get('attachments[0].file')).toBe('attachments/open-data-barometer-summary.txt');
    expect(englishForm.get('images[0].file')).toBe('images/barometer-chart.jpg');
    expect(englishForm.get('images[0].alt')).toMatch(/./);
    expect(form.get('translationOf')).toBe('open-data-barometer-2024');
    // One empty row to fill in each list.
    expect(form.get('quotes[1].text')).toBe('');
    expect(form.get('links[1].label')).toBe('');
    const seed = opened(await readFile(path.join(examples, releaseFiles[0] ?? ''), 'utf8'));
    const seedForm = submitted(editPage(seed.frontMatter, seed.body));
    expect(seedForm.getAll('publishers').sort()).toEqual(['', 'villes-de-france', 'villes-internet']);
  });

  it('one quote edited: only the lines of quotes differ, and only that author', async () => {
    const { file, text, frontMatter, body, form } = await seedForm();
    form.set('quotes[1].author', 'Mathieu Vidal-Durand');
    const read = readForm(frontMatter, form, choices);
    const edited = editPublicationText(text, { frontMatter: read.frontMatter, body }, file);
    expect(changedKeys(text, edited)).toEqual(['quotes']);
    const before = text.split('\n');
    expect(edited.split('\n').filter((line, i) => line !== before[i])).toEqual([
      '    author: Mathieu Vidal-Durand',
    ]);
  });

  it('a quote and a link added in the empty rows: only quotes and links change, the figure stays a number', async () => {
    const { file, text, frontMatter, body, form } = await seedForm();
    form.set('quotes[2].text', 'Une troisième voix.');
    form.set('quotes[2].author', 'Camille Martin');
    form.set('links[1].label', 'Le site');
    form.set('links[1].url', 'https://example.org/');
    const read = readForm(frontMatter, form, choices);
    expect(read.problems).toEqual([]);
    const edited = editPublicationText(text, { frontMatter: read.frontMatter, body }, file);
    expect(changedKeys(text, edited).sort()).toEqual(['links', 'quotes']);
    const again = opened(edited).frontMatter;
    expect(again.quotes).toEqual([
      ...(frontMatter.quotes as unknown[]),
      { text: 'Une troisième voix.', author: 'Camille Martin' },
    ]);
    expect((again.figures as { value: unknown }[])[0]?.value).toBe(97);
    expect(validate(publicationFrontMatterSchema, located(again)).ok).toBe(true);
  });

  it('a row checked "remove" goes; a list emptied goes from the file; an organisation unchecked goes', async () => {
    const { file, text, frontMatter, body, form } = await seedForm();
    form.append('quotes[0].remove', '1');
    form.append('links[0].remove', '1');
    form.delete('publishers');
    form.append('publishers', '');
    form.append('publishers', 'villes-de-france');
    const read = readForm(frontMatter, form, choices).frontMatter;
    expect(read.quotes).toEqual([(frontMatter.quotes as unknown[])[1]]);
    expect('links' in read).toBe(false);
    expect(read.publishers).toEqual(['villes-de-france']);
    const edited = editPublicationText(text, { frontMatter: read, body }, file);
    expect(changedKeys(text, edited).sort()).toEqual(['links', 'publishers', 'quotes']);
  });
});

describe('a list edited in a file written by hand', () => {
  const file = [
    '---',
    'title: T',
    'date: 2021-06-08',
    'lead: L',
    'publishers: [villes-internet, villes-de-france]   # les deux',
    'quotes:',
    '  # la première',
    "  - text: 'Une citation'   # citée",
    '    author: A',
    '  - text: >-',
    '      Deux',
    '    author: B',
    '---',
    '',
    'Le corps.',
    '',
  ].join('\n');

  it('keeps the unchanged items as written (quoting, comments, folding): only the changed line differs, and the spaces before a comment', () => {
    const { frontMatter, body } = opened(file);
    const quotes = structuredClone(frontMatter.quotes) as { author: string }[];
    if (quotes[1]) quotes[1].author = 'C';
    const edited = editPublicationText(file, { frontMatter: { ...frontMatter, quotes }, body }, 'x.md');
    const before = file.split('\n');
    // The list is written again by the yaml library: the spaces before a comment at the end of
    // a line become one; the rest of its lines are as they were.
    expect(edited.split('\n').filter((line, i) => line !== before[i])).toEqual([
      "  - text: 'Une citation' # citée",
      '    author: C',
    ]);
  });

  it('a flow list stays a flow list when an item is added', () => {
    const { frontMatter, body } = opened(file);
    const publishers = [...(frontMatter.publishers as string[]), 'intercommunalites'];
    const edited = editPublicationText(file, { frontMatter: { ...frontMatter, publishers }, body }, 'x.md');
    expect(changedKeys(file, edited)).toEqual(['publishers']);
    expect(edited).toContain(
      'publishers: [ villes-internet, villes-de-france, intercommunalites ] # les deux\n',
    );
  });
});

describe('every field, from the form to the front matter and back', () => {
  const everything = {
    title: 'Essai de tous les champs',
    subtitle: 'Un sous-titre',
    date: '2026-12-07',
    embargo: '2026-12-08 08:00 Europe/Paris',
    place: 'Lyon',
    lang: 'fr',
    slug: 'essai-complet',
    translationOf: 'test-complete',
    visibility: 'private',
    lead: 'Le chapô.',
    tags: ['un', 'deux'],
    author: 'Le service presse',
    publishers: [
      'villes-internet',
      {
        name: 'Une association',
        about: 'Ce qu’elle fait.',
        website: 'https://asso.example.org',
        address: '1 rue Exemple\n69000 Lyon',
        phone: '+33 4 00 00 00 00',
        email: 'contact@asso.example.org',
        logo: 'https://asso.example.org/logo.png',
        color: '#0b5fa5',
        article: 'la',
        aboutHeading: 'Qui sommes-nous',
        pressContact: {
          name: 'Camille',
          email: 'presse@asso.example.org',
          phone: '+33 4 00 00 00 01',
          label: 'Contact Presse',
        },
        social: { mastodon: '@asso@mastodon.social', linkedin: 'company/asso' },
      },
    ],
    quotes: [{ text: 'Une phrase <script>alert(1)</script>.', author: 'Camille', role: 'présidente' }],
    figures: [
      { value: 97, label: 'contributions' },
      { value: '67 %', label: 'des villes' },
    ],
    links: [{ label: 'Le site', url: 'https://example.org/' }],
    attachments: ['attachments/open-data-barometer-summary.txt'],
    images: [
      {
        file: 'images/barometer-chart.jpg',
        alt: 'Un graphique',
        caption: 'La légende',
        credit: 'Moi',
        licence: 'CC BY 4.0',
      },
    ],
  };

  it('a new release filled in every field gives that front matter; its edit form gives it back unchanged', () => {
    const create = adminPages(templates, 'fr').create({
      csrf: 'c',
      frontMatter: { date: '2026-12-07', lang: 'fr' },
      body: '',
      choices,
    });
    const form = submitted(create);
    // The empty form: nothing but the start.
    const empty = newReleaseFrontMatter({ date: '2026-12-07', lang: 'fr' }, form, choices);
    expect(empty.problems).toEqual([]);
    expect(empty.frontMatter).toEqual({ date: '2026-12-07', lang: 'fr', publishers: [] });
    // Filled through the form's own names.
    const filled = submitted(editPage(everything, 'Le corps.'));
    const read = newReleaseFrontMatter({ date: '2026-12-07', lang: 'fr' }, filled, choices);
    expect(read.problems).toEqual([]);
    expect(read.frontMatter).toEqual(everything);
    expect(Object.keys(read.frontMatter)[0]).toBe('title');
    // And back: its edit form, posted unchanged, changes nothing.
    expect(readForm(everything, submitted(editPage(everything, 'x')), choices).frontMatter).toEqual(
      everything,
    );
  });

  it('escapes what it shows: a quote with <script> is text in the form', () => {
    const html = editPage(everything, 'x');
    expect(html).toContain('Une phrase &lt;script&gt;alert(1)&lt;/script&gt;.');
    expect(html).not.toContain('<script>alert');
  });
});

describe('hostile forms', () => {
  const start = { date: '2026-12-07', lang: 'fr' };

  it('a name that is no field of the form is refused, and touches no prototype', () => {
    for (const name of [
      'quotes[__proto__]',
      'quotes[0].__proto__',
      'quotes[0].constructor',
      '__proto__',
      'quotes[00000].text',
      'toString',
    ]) {
      const form = new URLSearchParams([
        [name, 'x'],
        ['title', 'T'],
      ]);
      const read = readForm(start, form, choices);
      expect(read.problems.map((p) => p.message).join(), name).toContain('a field this form does not have');
    }
    // Thousands of them: one problem, naming the first.
    const flood = new URLSearchParams(
      Array.from({ length: 5000 }, (_, i) => [`x${i}`, 'y'] as [string, string]),
    );
    expect(readForm(start, flood, choices).problems).toEqual([
      {
        field: '',
        message: 'the form sent a field this form does not have, "x0": reload the form and fill it again',
      },
    ]);
    expect(({} as Record<string, unknown>).text).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'x')).toBe(false);
  });

  it('500 rows are refused with the limit, before they are read', () => {
    const form = new URLSearchParams();
    for (let i = 0; i < 500; i++) {
      form.append(`quotes[${i}].text`, `Citation ${i}`);
      form.append(`quotes[${i}].author`, 'X');
    }
    const read = readForm(start, form, choices);
    expect(read.problems).toEqual([
      { field: 'quotes', message: 'has too many rows: at most 50 quotes; remove some' },
    ]);
    expect((read.frontMatter.quotes as unknown[]).length).toBe(51);
    expect(translateProblem(read.problems[0]?.message ?? '', 'fr')).toBe(
      'a trop de lignes : au plus 50 citations ; supprimez-en',
    );
  });

  it('an attachment or image that is not a file of the workspace’s folders is refused', () => {
    for (const file of ['../../etc/passwd', '/etc/passwd', 'attachments/none.pdf']) {
      const form = new URLSearchParams([
        ['attachments[0].file', file],
        ['images[0].file', file],
        ['images[0].alt', 'A'],
      ]);
      const read = readForm(start, form, choices);
      expect(read.problems.map((p) => p.field)).toEqual(['attachments[0].file', 'images[0].file']);
      expect(read.problems[0]?.message).toContain(
        'is not a file of the workspace’s publications/attachments/ folder'.replace('’', "'"),
      );
    }
  });

  describe('files offered', () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'pressroom-admin-fields-'));
      const pubs = path.join(root, 'publications');
      await mkdir(path.join(pubs, 'attachments', 'sub'), { recursive: true });
      await mkdir(path.join(pubs, 'images'), { recursive: true });
      await writeFile(path.join(pubs, 'attachments', 'a.pdf'), 'a');
      await writeFile(path.join(pubs, 'attachments', 'sub', 'b.txt'), 'b');
      await writeFile(path.join(pubs, 'attachments', '.hidden'), 'h');
      await writeFile(path.join(pubs, 'images', 'photo.jpg'), 'p');
      await writeFile(path.join(pubs, 'images', 'notes.txt'), 'n');
      await writeFile(path.join(root, 'secret.txt'), 's');
      await symlink('/etc/passwd', path.join(pubs, 'attachments', 'passwd.txt'));
      await symlink(path.join(root, 'secret.txt'), path.join(pubs, 'images', 'secret.jpg'));
      await symlink(tmpdir(), path.join(pubs, 'attachments', 'outside'));
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('are the regular files of attachments/ and images/: no symbolic link (to a file or a folder), nothing hidden', async () => {
      const files = await workspaceReleaseSources(root, localFiles()).pressKitFiles?.();
      expect(files).toEqual({
        attachments: ['attachments/a.pdf', 'attachments/sub/b.txt'],
        images: ['images/photo.jpg'],
      });
      // A link posted anyway is refused by the form.
      const read = readForm(start, new URLSearchParams([['attachments[0].file', 'attachments/passwd.txt']]), {
        organizations: [],
        ...(files ?? { attachments: [], images: [] }),
      });
      expect(read.problems.map((p) => p.field)).toEqual(['attachments[0].file']);
    });
  });
});

describe('problems beside their fields, in the user’s language', () => {
  it('a nested field’s problem is beside it (aria-invalid, aria-describedby), in French for a French user', async () => {
    const text = await readFile(path.join(examples, releaseFiles[1] ?? ''), 'utf8');
    const { frontMatter, body } = opened(text);
    const problems: FieldProblem[] = [
      {
        field: 'publishers[0].pressContact.email',
        message: 'must be an email address such as press@example.org',
        value: 'x',
      },
      { field: 'quotes[0].author', message: 'must not be empty' },
      { field: 'quotes', message: 'has 51 quotes, at most 50' },
    ];
    const fr = editPage(frontMatter, body, problems, 'fr');
    expect(fr).toMatch(
      /id="f-publishers-0-pressContact-email"[^>]*aria-invalid="true" aria-describedby="f-publishers-0-pressContact-email-error"/,
    );
    expect(fr).toContain(
      '<p class="field-error" id="f-publishers-0-pressContact-email-error">doit être une adresse électronique, comme press@example.org </p>',
    );
    expect(fr).toContain('id="f-quotes-0-author-error">ne doit pas être vide </p>');
    expect(fr).toContain('id="f-quotes-error">compte 51 citations, au plus 50 </p>');
    const en = editPage(frontMatter, body, problems, 'en');
    expect(en).toContain('id="f-quotes-0-author-error">must not be empty </p>');
  });

  it('a problem of a publisher named by its id (a check box, no row) is shown on the list, with its path', async () => {
    const { frontMatter, body } = await seedForm();
    const html = editPage(frontMatter, body, [
      { field: 'publishers[1]', message: 'no organisation file "villes-de-france"' },
    ]);
    expect(html).toContain(
      'id="f-publishers-error">publishers[1]: no organisation file &quot;villes-de-france&quot; </p>',
    );
  });

  it('"add a row" posts the form back to its own list', () => {
    const html = editPage({ title: 'T' }, '');
    expect(html).toContain('name="add" value="quotes" formaction="/admin/releases/x/edit#f-quotes"');
  });

  it('"add a row" asks for one more empty row, up to the limit', () => {
    const lists = formLists(
      { quotes: [{ text: 'a', author: 'b' }] },
      [],
      {},
      choices,
      addedRows(new URLSearchParams([['add', 'quotes']])),
    );
    expect(lists.find((l) => l.name === 'quotes')?.rows.map((r) => r.existing)).toEqual([true, false, false]);
    expect(addedRows(new URLSearchParams([['add', '__proto__']]))).toEqual({});
    const full = Array.from({ length: 50 }, (_, i) => ({ text: `${i}`, author: 'x' }));
    const quotes = formLists({ quotes: full }, [], {}, choices, { quotes: 1 }).find(
      (l) => l.name === 'quotes',
    );
    expect(quotes?.rows).toHaveLength(50);
    expect(quotes?.canAdd).toBe(false);
  });

  it('the schema’s own messages are translated; one the table does not know stays in English', () => {
    const data = {
      title: '',
      date: '2021-02-30',
      lead: 'x',
      publishers: [{ name: 'A', about: 'B', email: 'nope', color: 'red' }],
      links: [{ label: 'L', url: 'javascript:alert(1)' }],
      lang: 'de',
      embargo: '2026-06-08 08:00',
    };
    const checked = validate(publicationFrontMatterSchema, located(data));
    if (checked.ok) throw new Error('the data should be refused');
    const french = checked.problems.map((p) => `${p.path}: ${translateProblem(p.message, 'fr')}`);
    expect(french).toEqual(
      expect.arrayContaining([
        'title: ne doit pas être vide',
        'date: doit être une vraie date écrite AAAA-MM-JJ, par exemple 2021-06-08',
        'publishers[0].email: doit être une adresse électronique, comme press@example.org',
        'publishers[0].color: doit être une couleur hexadécimale, comme « #0b5fa5 »',
        'links[0].url: doit être une adresse http:// ou https:// complète avec un nom de domaine, par exemple « https://example.org/report »',
        'lang: doit être « fr » ou « en »',
      ]),
    );
    expect(french.find((p) => p.startsWith('embargo'))).toContain('n’a pas de fuseau horaire');
    expect(translateProblem('attachments/x.pdf: file not found', 'fr')).toBe(
      'attachments/x.pdf: file not found',
    );
    expect(translateProblem('must not be empty', 'en')).toBe('must not be empty');
  });
});

describe('the language switch', () => {
  it('keeps the choice in a cookie, which wins over the browser’s language', () => {
    expect(chosenLanguage({ 'accept-language': 'fr-FR' }, 'en')).toBe('fr');
    expect(chosenLanguage({ 'accept-language': 'fr-FR', cookie: `${languageCookie}=en` }, 'fr')).toBe('en');
    expect(chosenLanguage({ cookie: `${languageCookie}=de` }, 'fr')).toBe('fr');
    const answer = answerLanguage(
      {
        method: 'GET',
        path: '/admin/language',
        headers: {},
        query: { lang: 'en', back: '/admin/releases/x/edit' },
      },
      true,
      {},
    );
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/admin/releases/x/edit');
    expect(answer.headers['set-cookie']).toMatch(
      /^pressroom_admin_lang=en; Path=\/admin; Max-Age=31536000; HttpOnly; SameSite=Strict; Secure$/,
    );
  });

  it('goes back to a page of the admin only, and refuses another language', () => {
    for (const back of [
      '//evil.example/admin',
      'https://evil.example/',
      '/admin/../etc',
      '/adminx',
      '/admin/releases?x=1',
      '/admin\\evil',
    ])
      expect(
        answerLanguage(
          { method: 'GET', path: '/admin/language', headers: {}, query: { lang: 'fr', back } },
          false,
          {},
        ).headers.location,
        back,
      ).toBe('/admin/releases');
    const refused = answerLanguage(
      { method: 'GET', path: '/admin/language', headers: {}, query: { lang: 'de' } },
      false,
      {},
    );
    expect(refused.status).toBe(400);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('every page links to the other language, back to itself', () => {
    const page = adminPages(templates, 'fr', '/admin/releases/x/edit').notFound({ csrf: '' });
    expect(page).toContain(
      '<a href="/admin/language?lang=en&amp;back=%2Fadmin%2Freleases%2Fx%2Fedit" lang="en" hreflang="en">English</a>',
    );
  });
});
