/** Letters that do not decompose into a base letter plus an accent. */
const ligatures: Record<string, string> = { œ: 'oe', æ: 'ae', ß: 'ss', ø: 'o', đ: 'd', ł: 'l', þ: 'th' };

/**
 * The URL name of a title: lower case, accents removed, words joined by "-".
 * `Gestion de crise avec le numérique : les villes moyennes résilientes`
 * → `gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes`.
 */
export function slugify(title: string, maxLength = 80): string {
  const ascii = title
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[œæßøđłþ]/g, (c) => ligatures[c] ?? c);
  const words = ascii.split(/[^a-z0-9]+/).filter(Boolean);
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > maxLength && slug) break;
    slug = next.slice(0, maxLength);
  }
  return slug;
}
