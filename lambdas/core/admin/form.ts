import type { FieldProblem } from './releases.ts';

/**
 * The edit form of a release: the fields a person changes most (title, dates, lead, tags,
 * body...) as form controls. Fields the form does not show (publishers, quotes, figures,
 * links, attachments, images) are kept as the file has them. A field left as the file had it
 * is sent back unchanged, so a form saved untouched changes nothing in the file.
 */

interface FormField {
  name: string;
  kind: 'text' | 'date' | 'textarea' | 'select' | 'list';
  required?: boolean;
  /** The value the format takes when the field is absent: choosing it leaves the field absent. */
  default?: string;
  options?: string[];
  /** Rows of a text area. */
  rows?: number;
}

export const formFields: FormField[] = [
  { name: 'title', kind: 'text', required: true },
  { name: 'subtitle', kind: 'text' },
  { name: 'date', kind: 'date', required: true },
  { name: 'embargo', kind: 'text' },
  { name: 'place', kind: 'text' },
  { name: 'lang', kind: 'select', options: ['fr', 'en'], default: 'fr' },
  { name: 'visibility', kind: 'select', options: ['public', 'private'], default: 'public' },
  { name: 'lead', kind: 'textarea', required: true, rows: 4 },
  { name: 'tags', kind: 'list' },
  { name: 'author', kind: 'text' },
];

/** One control of the form as the template shows it. */
export interface FormControl extends FormField {
  value: string;
  /** The problems of this field, shown beside it. */
  errors: string[];
  /** The label's key in the locale strings: `field.title`. */
  label: string;
}

function shown(value: unknown, field: FormField): string {
  if (value === undefined || value === null) return field.default ?? '';
  if (field.kind === 'list') return Array.isArray(value) ? value.map(String).join(', ') : String(value);
  return String(value);
}

/** The form's controls for a front matter (and the values given, after a refused save). */
export function formControls(
  frontMatter: Record<string, unknown>,
  problems: readonly FieldProblem[] = [],
  labels: Record<string, string> = {},
): FormControl[] {
  return formFields.map((field) => ({
    ...field,
    label: labels[`field.${field.name}`] ?? field.name,
    value: shown(frontMatter[field.name], field),
    errors: problems
      .filter(
        (p) =>
          p.field === field.name ||
          p.field.startsWith(`${field.name}[`) ||
          p.field.startsWith(`${field.name}.`),
      )
      .map((p) => p.message),
  }));
}

/**
 * The front matter with the form's values: a value equal to what the file shows is the file's
 * own (same type, same list); an emptied optional field is removed; an absent field set to its
 * default stays absent.
 */
export function applyForm(
  frontMatter: Record<string, unknown>,
  form: URLSearchParams,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...frontMatter };
  for (const field of formFields) {
    const given = form.get(field.name);
    if (given === null) continue;
    const value = field.kind === 'textarea' ? given.replace(/\r\n/g, '\n') : given.trim();
    if (value === shown(frontMatter[field.name], field)) continue;
    if (value === '' && !field.required) delete result[field.name];
    else if (field.kind === 'list')
      result[field.name] = value
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean);
    else result[field.name] = value;
  }
  return result;
}

/**
 * The front matter of a new release from its form: the fields in the form's order (title
 * first, as people write them), then the publishers checked.
 */
export function newReleaseFrontMatter(
  start: Record<string, unknown>,
  form: URLSearchParams,
): Record<string, unknown> {
  const given = applyForm(start, form);
  const publishers = form.getAll('publishers');
  return {
    ...Object.fromEntries(
      formFields
        .filter((field) => given[field.name] !== undefined)
        .map((field) => [field.name, given[field.name]]),
    ),
    ...(publishers.length > 0 && { publishers }),
  };
}
