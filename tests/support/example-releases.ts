/** The two example releases of examples/publications/, as a reader sees them, written out by hand. */
export const crise = {
  file: 'examples/publications/2021-06-08-numerique-gestion-de-crise.md',
  slug: 'gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
  // A no-break space before the colon, as French typography wants.
  title: 'Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes',
  date: '2021-06-08',
};
export const barometer = {
  file: 'examples/publications/2024-03-12-open-data-barometer.md',
  slug: 'open-data-barometer-2024',
  title: 'Open Data Barometer 2024: two cities in three now publish their budgets openly',
  date: '2024-03-12',
  attachment: 'attachments/open-data-barometer-summary.txt',
  /** One of its tags. */
  tag: 'open data',
};
/** The French translation of the barometer (`translationOf: open-data-barometer-2024`). */
export const barometre = {
  file: 'examples/publications/2024-03-12-barometre-open-data.md',
  slug: 'barometre-open-data-2024',
  title:
    'Baromètre de l’open data 2024\u00a0: deux villes sur trois publient désormais leur budget en données ouvertes',
  date: '2024-03-12',
};
