/**
 * What the seed press release (examples/publications/2021-06-08-numerique-gestion-de-crise.md)
 * says that must reach every format exactly: names, figures, dates, places, quotes, contacts,
 * addresses. The render tests look for them in the email, its text part and the page; the PDF
 * test in its extracted text.
 */
export const seedFacts: readonly string[] = [
  'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
  '“Numérique et gestion de crise locale\u00a0: des enseignements pour penser l’avenir des villes”',
  '97 contributions recueillies auprès de 31 villes moyennes',
  'Saumur (49) @@@ 2019',
  'Beauvais (60) @@@@@ 2021',
  'Martigues (13) @@@@@ 2021',
  'Béthune (62) @@@@ 2020',
  'Si cette crise a révélé tout le potentiel d’attractivité',
  'Caroline Cayeux',
  'présidente de Villes de France',
  'Et si la crise nous permettait de tout repenser différemment',
  'Mathieu Vidal',
  'Nicolas Rio',
  'Anne Faure',
  'Villes Internet, association transpolitique fondée en 2002',
  '68 boulevard Malesherbes',
  '+33 1 55 06 09 30',
  '@Villes_Internet',
  'Florence Poznanski',
  'Villes de France, association d’élus pluraliste',
  '94 rue de Sèvres',
  '+33 1 45 44 99 61',
  '@villes2fr',
  'Adrian Philip',
  'Par Michaël Bideault',
  'Contact Presse\u00a0: Florence Poznanski',
  'Contact Presse\u00a0: Adrian Philip',
  'À propos de Villes Internet',
  'mardi 8 juin 2021',
];
