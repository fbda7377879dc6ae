import { beforeAll, describe, expect, it } from 'vitest';
import { localSourceFiles } from '../../lambdas/adapters/local-files.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { loadPublication } from '../../lambdas/core/publication/load.ts';
import {
  aboutHeading,
  createReleaseRenderer,
  type ReleaseRenderer,
} from '../../lambdas/core/render/document.ts';
import { htmlToText } from '../../lambdas/core/render/markdown.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import {
  frenchOf,
  typesetFrenchHtml,
  typesetFrenchText,
  typesetHtml,
  typesetText,
} from '../../lambdas/core/render/typography.ts';
import { memoryFiles, villesInternet } from '../support/memory-files.ts';
import { visibleText } from '../support/reference-facts.ts';

/** `⍽` for a narrow no-break space, `°` for a no-break space: readable expectations. */
const shown = (s: string) => s.replace(/\u202f/g, '⍽').replace(/\u00a0/g, '°');
const written = (s: string) => s.replace(/⍽/g, '\u202f').replace(/°/g, '\u00a0');

describe('French typography in text', () => {
  it.each([
    ["l'avenir d'un territoire", 'l’avenir d’un territoire'],
    ["un 'mot' cité", "un 'mot' cité"],
    ['Quoi? Oui ! Non; fin !', 'Quoi⍽? Oui⍽! Non⍽; fin⍽!'],
    ['Vraiment ?! Hein ??', 'Vraiment⍽?! Hein⍽??'],
    ['Voir : la suite', 'Voir°: la suite'],
    ['Note: la suite', 'Note°: la suite'],
    ['(ci-dessous) : ok', '(ci-dessous)°: ok'],
    ['« citation » et «serré» et «°mixte° »', '«⍽citation⍽» et «⍽serré⍽» et «⍽mixte⍽»'],
    ['différemment° ? Les élus', 'différemment⍽? Les élus'],
    ['« titre » ?', '«⍽titre⍽»⍽?'],
  ])('%s', (input, expected) => {
    expect(shown(typesetFrenchText(written(input)))).toBe(expected);
  });

  it.each([
    ['à 08:00 (UTC+02:00)'],
    ['https://x.org/a?b=1&c=2 ; mailto:a@b.org'],
    ['www.villes-internet.net/p?q=1'],
    ['écrire à florence.poznanski@villes-internet.example.org'],
    ['{{#if recipient.firstName}}Bonjour {{recipient.firstName}},{{else}}Bonjour,{{/if}}'],
    ['&gt; &amp; &#x27;'],
    ['tel:+33155060930'],
  ])('leaves %s as it is', (input) => {
    expect(typesetFrenchText(input)).toBe(input);
  });

  it('keeps URLs whole inside a sentence and typesets around them', () => {
    expect(shown(typesetFrenchText('Lire la suite: https://x.org/?a=1 ! Merci !'))).toBe(
      'Lire la suite°: https://x.org/?a=1 ! Merci⍽!',
    );
  });

  it('is idempotent', () => {
    const samples = [
      "l'avis : oui? « x » ; Non! Voir: https://x.org/?q=1",
      'Gestion de crise avec le numérique\u00a0: les villes',
      'différemment\u202f? «\u202fa\u202f»',
    ];
    for (const s of samples) expect(typesetFrenchText(typesetFrenchText(s))).toBe(typesetFrenchText(s));
  });

  it('leaves English exactly as written', () => {
    const s = "It's here: really? « quoted » ; l'avenir";
    expect(typesetText(s, 'en')).toBe(s);
    expect(typesetHtml(`<p>${s}</p>`, 'en')).toBe(`<p>${s}</p>`);
  });

  it('keeps "?" with its word when the text part is wrapped', () => {
    const html = typesetFrenchHtml(`<p>${'mot '.repeat(17)}différemment ? Les élus ${'mot '.repeat(30)}</p>`);
    const lines = htmlToText(html).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).not.toMatch(/^[?!;:»]/);
    expect(htmlToText(html)).toContain('différemment\u202f?');
  });
});

describe('French typography in HTML', () => {
  const html = [
    `<p title="l'avis : oui ?" class="a:b">L'avis : oui? d&#x27;accord&nbsp;!</p>`,
    '<a href="https://x.org/?a=1&amp;b=2">https://x.org/?a=1&amp;b=2</a>',
    "<code>a ? b : c</code><pre>x ; y\nl'id</pre>",
    '<!--[if mso | IE]><table role="presentation" a="b : c"><![endif]-->',
    '<style>a:hover { color: red !important; }</style>',
    '<p>&lt;img src&#x3D;x&gt; est cité ; ok</p>',
  ].join('');
  const out = typesetFrenchHtml(html);

  it('typesets the text', () => {
    expect(shown(out)).toContain('L’avis°: oui⍽? d’accord⍽!</p>');
    expect(shown(out)).toContain('&lt;img src&#x3D;x&gt; est cité⍽; ok');
  });

  it('never touches attributes, URLs, code, comments or styles', () => {
    expect(out).toContain(`<p title="l'avis : oui ?" class="a:b">`);
    expect(out).toContain('<a href="https://x.org/?a=1&amp;b=2">https://x.org/?a=1&amp;b=2</a>');
    expect(out).toContain("<code>a ? b : c</code><pre>x ; y\nl'id</pre>");
    expect(out).toContain('<!--[if mso | IE]><table role="presentation" a="b : c"><![endif]-->');
    expect(out).toContain('<style>a:hover { color: red !important; }</style>');
  });

  it('is idempotent', () => {
    expect(typesetFrenchHtml(out)).toBe(out);
  });
});

describe('headings over an organisation’s boilerplate', () => {
  it.each([
    ['Fédération nationale des villes', 'la', 'de la Fédération nationale des villes'],
    ['Réseau des territoires', 'le', 'du Réseau des territoires'],
    ['Villes en transition', 'les', 'des Villes en transition'],
    ['Association des maires', 'l’', 'de l’Association des maires'],
    ['Association des maires', "l'", 'de l’Association des maires'],
    ['Intercommunalités de France', undefined, 'd’Intercommunalités de France'],
    ['Élus locaux', undefined, 'd’Élus locaux'],
    ['Habitat et Territoires', undefined, 'd’Habitat et Territoires'],
    ['Hauts-de-France Numérique', undefined, 'de Hauts-de-France Numérique'],
    ['Villes Internet', undefined, 'de Villes Internet'],
  ] as const)('%s (%s) → %s', (name, article, expected) => {
    expect(frenchOf(name, article)).toBe(expected);
  });

  it('fills the language pattern, or takes the organisation’s own heading', () => {
    const fr = { about: 'À propos {ofName}' };
    expect(aboutHeading({ name: 'Fédération', article: 'la' }, fr, 'fr')).toBe('À propos de la Fédération');
    expect(aboutHeading({ name: 'Villes Internet' }, { about: 'À propos de {name}' }, 'fr')).toBe(
      'À propos de Villes Internet',
    );
    expect(aboutHeading({ name: 'Open Cities', article: 'la' }, { about: 'About {name}' }, 'en')).toBe(
      'About Open Cities',
    );
    expect(aboutHeading({ name: 'X', aboutHeading: 'Qui sommes-nous' }, fr, 'fr')).toBe('Qui sommes-nous');
  });
});

describe('rendered releases', () => {
  let templates: TemplateSet;
  let renderer: ReleaseRenderer;
  beforeAll(async () => {
    templates = await loadTemplateFiles();
    renderer = createReleaseRenderer(templates);
  });

  it('head each publisher’s boilerplate with the right "de", in the email, the text and the page', async () => {
    const files = memoryFiles({
      'organizations/villes-internet.yaml': villesInternet,
      'organizations/federation.yaml': 'name: Fédération des villes\narticle: la\nabout: Une fédération.\n',
      'organizations/intercommunalites.yaml': 'name: Intercommunalités de France\nabout: Un réseau.\n',
      'organizations/maison.yaml':
        'name: Maison des élus\naboutHeading: La Maison des élus en bref\nabout: Une maison.\n',
      'publications/p.md': [
        '---',
        'title: "Trois réseaux : une étude"',
        'date: 2021-06-01',
        'lead: Une étude.',
        'publishers: [federation, intercommunalites, villes-internet, maison]',
        '---',
        "L'étude est là.",
        '',
      ].join('\n'),
    });
    const { publication } = await loadPublication('publications/p.md', files);
    const release = await renderer.render(publication);
    for (const text of [visibleText(release.email.html), release.email.text, visibleText(release.page)]) {
      expect(text).toContain('À propos de la Fédération des villes');
      expect(text).toContain('À propos d’Intercommunalités de France');
      expect(text).toContain('À propos de Villes Internet');
      expect(text).toContain('La Maison des élus en bref');
      expect(text).toContain('ardi 1er juin 2021');
      expect(text).toContain('L’étude est là.');
      expect(text).toContain('Trois réseaux\u00a0: une étude');
      // The default label, the language's own capitalisation.
      expect(text).toContain('Contact presse\u00a0: Florence Poznanski');
    }
  });

  it('typeset the seed in every format, and no link target', async () => {
    const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
    const release = await renderer.render((await loadPublication(seed, localSourceFiles)).publication, {
      webUrl: 'https://press.example.org/2021/numerique/?a=1',
    });
    for (const text of [visibleText(release.email.html), release.email.text, visibleText(release.page)]) {
      expect(text).toContain('repenser différemment\u202f? Les élus');
      expect(text).toContain('«\u202fSi cette crise');
      expect(text).toContain('pour nos territoires\u202f»');
      expect(text).not.toMatch(/[\p{L}»] [:;!?»]|« /u);
    }
    // The text part wraps at 78 characters: the link may go on the next line.
    expect(release.email.text).toMatch(
      /Lire l’étude\u00a0: Numérique et gestion de crise locale\u00a0:\s+https:\/\//,
    );
    for (const html of [release.email.html, release.page]) {
      for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).not.toMatch(/[\u00a0\u202f]/);
    }
  });

  it('leave English without French spacing', async () => {
    const { publication } = await loadPublication(
      'examples/publications/2024-03-12-open-data-barometer.md',
      localSourceFiles,
    );
    const release = await renderer.render(publication);
    for (const text of [release.email.html, release.email.text, release.page]) {
      expect(text).not.toContain('\u202f');
      expect(text).not.toMatch(/\u00a0[:;!?»]/);
    }
    expect(release.email.text).toContain('Unsubscribe: {{unsubscribeUrl}}');
  });
});
