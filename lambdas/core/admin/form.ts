import { isDeepStrictEqual } from 'node:util';
import { publicationLimits as max } from '../limits.ts';
import { socialNetworks } from '../publication/social.ts';
import type { FieldProblem } from './releases.ts';

/**
 * The edit and create forms of a release: every field of the publication format as form
 * controls. Plain fields are one control each (`title`); lists (publishers, quotes, figures,
 * links, attachments, images) are rows of small sub-forms whose controls are named by their
 * path, as problems name them (`quotes[1].author`, `publishers[0].pressContact.email`).
 * Every row has a "remove" check box and each list one empty row to fill, so rows are added
 * and removed without JavaScript. A value left as the file had it is sent back unchanged (the
 * file's own item, same types), so a form saved untouched changes nothing in the file.
 */

type Kind = 'text' | 'date' | 'textarea' | 'select' | 'list' | 'email' | 'url' | 'file';

interface FormField {
  name: string;
  kind: Kind;
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
  { name: 'slug', kind: 'text' },
  { name: 'translationOf', kind: 'text' },
];

/** A field of a row: `pressContact.email` is a path inside the item. */
interface RowField extends FormField {
  /** The sub-form it is shown in (a fieldset of the row): the inline organisation's parts. */
  group?: 'pressContact' | 'social';
}

/** A list of the format, edited as rows. */
interface ListField {
  name: 'publishers' | 'quotes' | 'figures' | 'links' | 'attachments' | 'images';
  fields: RowField[];
  /** At most this many items (lambdas/core/limits.ts). */
  limit: number;
  required?: boolean;
}

const organizationFields: RowField[] = [
  { name: 'name', kind: 'text' },
  { name: 'about', kind: 'textarea', rows: 3 },
  { name: 'website', kind: 'url' },
  { name: 'address', kind: 'textarea', rows: 2 },
  { name: 'phone', kind: 'text' },
  { name: 'email', kind: 'email' },
  { name: 'logo', kind: 'url' },
  { name: 'color', kind: 'text' },
  { name: 'article', kind: 'select', options: ['', 'le', 'la', 'les', 'l’'] },
  { name: 'aboutHeading', kind: 'text' },
  { name: 'pressContact.name', kind: 'text', group: 'pressContact' },
  { name: 'pressContact.email', kind: 'email', group: 'pressContact' },
  { name: 'pressContact.phone', kind: 'text', group: 'pressContact' },
  { name: 'pressContact.label', kind: 'text', group: 'pressContact' },
  ...socialNetworks.map(
    (network): RowField => ({ name: `social.${network}`, kind: 'text', group: 'social' }),
  ),
];

export const listFields: ListField[] = [
  {
    name: 'publishers',
    limit: max.publishers,
    required: true,
    // The workspace's organisations are check boxes; the rows are organisations written in the release.
    fields: organizationFields,
  },
  {
    name: 'quotes',
    limit: max.quotes,
    fields: [
      { name: 'text', kind: 'textarea', rows: 3, required: true },
      { name: 'author', kind: 'text', required: true },
      { name: 'role', kind: 'text' },
    ],
  },
  {
    name: 'figures',
    limit: max.figures,
    fields: [
      { name: 'value', kind: 'text', required: true },
      { name: 'label', kind: 'text', required: true },
    ],
  },
  {
    name: 'links',
    limit: max.links,
    fields: [
      { name: 'label', kind: 'text', required: true },
      { name: 'url', kind: 'url', required: true },
    ],
  },
  {
    name: 'attachments',
    limit: max.attachments,
    fields: [
      { name: 'file', kind: 'file', required: true },
      { name: 'label', kind: 'text' },
    ],
  },
  {
    name: 'images',
    limit: max.pressImages,
    fields: [
      { name: 'file', kind: 'file', required: true },
      { name: 'alt', kind: 'text', required: true },
      { name: 'caption', kind: 'textarea', rows: 2 },
      { name: 'credit', kind: 'text' },
      { name: 'licence', kind: 'text' },
    ],
  },
];

/** What the form chooses from: the workspace's organisations and its attachment and image files. */
export interface FormChoices {
  organizations: { id: string; name: string }[];
  /** Paths relative to the publications folder: `attachments/summary.pdf`, `images/chart.png`. */
  attachments: string[];
  images: string[];
}

export const noChoices: FormChoices = { organizations: [], attachments: [], images: [] };

/** One control of the form as the template shows it. */
export interface FormControl {
  /** The form name, the problem's path: `quotes[1].author`. */
  name: string;
  /** The element's id: `f-quotes-1-author`. */
  id: string;
  kind: Kind;
  required?: boolean;
  options?: { value: string; label: string; selected: boolean }[];
  rows?: number;
  value: string;
  /** The problems of this field, shown beside it. */
  errors: string[];
  /** Its label, from the locale strings. */
  label: string;
}

/** One row of a list: a fieldset with its controls, its sub-forms and a "remove" check box. */
export interface FormRow {
  name: string;
  id: string;
  legend: string;
  /** An item of the data (false: the empty row to fill). */
  existing: boolean;
  controls: FormControl[];
  groups: { legend: string; controls: FormControl[] }[];
  errors: string[];
}

/** A list of the form. */
export interface FormList {
  name: string;
  legend: string;
  rows: FormRow[];
  errors: string[];
  /** Whether the list may take one more row (the "add a row" button). */
  canAdd: boolean;
  /** The publishers' check boxes: the workspace's organisations, and the ids the release names. */
  organizations?: { id: string; name: string; checked: boolean; boxId: string }[];
  /** The words of its "add a row" button and of its rows' "remove" check boxes. */
  addLabel: string;
  removeLabel: string;
}

function idOf(name: string): string {
  return `f-${name.replace(/[[\].]+/g, '-').replace(/-$/, '')}`;
}

function shown(value: unknown, field: FormField): string {
  if (value === undefined || value === null) return field.default ?? '';
  if (field.kind === 'list') return Array.isArray(value) ? value.map(String).join(', ') : String(value);
  if (typeof value === 'object') return '';
  return String(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a dotted path of an item (`pressContact.email`). */
function at(item: unknown, dotted: string): unknown {
  let value: unknown = item;
  for (const part of dotted.split('.'))
    value = isRecord(value) && Object.hasOwn(value, part) ? value[part] : undefined;
  return value;
}

/** What a row's fields show for an item of its list. */
function rowValues(list: ListField, item: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of list.fields) {
    if (list.name === 'attachments' && typeof item === 'string')
      values[field.name] = field.name === 'file' ? item : '';
    else values[field.name] = shown(at(item, field.name), field);
  }
  return values;
}

/** The item a row's values make, the inverse of rowValues; undefined for an empty row. */
function rowItem(list: ListField, values: Record<string, string>): unknown {
  const item: Record<string, unknown> = {};
  for (const field of list.fields) {
    const value = values[field.name] ?? '';
    if (value === '' || field.name === 'id') continue;
    const parts = field.name.split('.');
    const last = parts.pop() as string;
    let target = item;
    for (const part of parts) {
      if (!isRecord(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    // A figure's value in digits is a number, as people write it in the file (value: 97).
    target[last] =
      list.name === 'figures' && last === 'value' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  }
  if (Object.keys(item).length === 0) return undefined;
  if (list.name === 'attachments' && Object.keys(item).length === 1 && 'file' in item) return item.file;
  return item;
}

/** The label of a field: `fields.quotes.author`, then `field.title`, else its name. */
function labelOf(t: Record<string, string>, key: string): string {
  return t[`fields.${key}`] ?? t[`field.${key}`] ?? key;
}

function errorsOf(problems: readonly FieldProblem[], name: string, nested = false): string[] {
  return problems
    .filter(
      (p) =>
        p.field === name || (nested && (p.field.startsWith(`${name}[`) || p.field.startsWith(`${name}.`))),
    )
    .map((p) => p.message);
}

function optionsFor(
  list: ListField,
  field: RowField,
  value: string,
  choices: FormChoices,
): FormControl['options'] {
  let options: { value: string; label: string }[] | undefined;
  if (field.kind === 'file')
    options = [
      { value: '', label: '—' },
      ...(list.name === 'images' ? choices.images : choices.attachments).map((f) => ({ value: f, label: f })),
    ];
  else if (field.options) options = field.options.map((o) => ({ value: o, label: o || '—' }));
  if (!options) return undefined;
  // What the file names stays selectable, listed or not (a file missing, a path elsewhere).
  if (value !== '' && !options.some((o) => o.value === value)) options.push({ value, label: value });
  return options.map((o) => ({ ...o, selected: o.value === value }));
}

/** The controls of the plain fields, and the rows of the lists, for a front matter. */
export function formControls(
  frontMatter: Record<string, unknown>,
  problems: readonly FieldProblem[] = [],
  labels: Record<string, string> = {},
): FormControl[] {
  return formFields.map((field) => {
    const value = shown(frontMatter[field.name], field);
    const { options: _options, default: _default, ...control } = field;
    return {
      ...control,
      id: idOf(field.name),
      label: labelOf(labels, field.name),
      value,
      ...(field.options && {
        options: field.options.map((o) => ({ value: o, label: o, selected: o === value })),
      }),
      errors: errorsOf(problems, field.name, true),
    };
  });
}

/**
 * The lists as rows: one per item, then one empty row to fill (`extra` more when asked, up to
 * the list's limit). Problems go beside their field (`quotes[1].author`), their row, or the list.
 */
export function formLists(
  frontMatter: Record<string, unknown>,
  problems: readonly FieldProblem[] = [],
  t: Record<string, string> = {},
  choices: FormChoices = noChoices,
  extra: Partial<Record<string, number>> = {},
): FormList[] {
  return listFields.map((list) => {
    const given = frontMatter[list.name];
    const items: unknown[] = Array.isArray(given) ? given : [];
    const empty = Math.max(0, Math.min(1 + (extra[list.name] ?? 0), list.limit - items.length));
    const all = [...items, ...Array.from({ length: empty }, () => undefined)];
    // A publisher named by its id is a check box, not a row.
    const shownRows = all.flatMap((item, index) =>
      list.name === 'publishers' && typeof item === 'string' ? [] : [{ item, index }],
    );
    const ids = items.filter((i): i is string => typeof i === 'string');
    const organizations =
      list.name === 'publishers'
        ? [
            ...choices.organizations,
            ...ids
              .filter((id) => !choices.organizations.some((o) => o.id === id))
              .map((id) => ({ id, name: id })),
          ].map((o) => ({ ...o, checked: ids.includes(o.id), boxId: idOf(`publishers-${o.id}`) }))
        : undefined;
    const rows = shownRows.map(({ item, index }, position): FormRow => {
      const values = rowValues(list, item);
      const rowName = `${list.name}[${index}]`;
      const controls = list.fields.map((field): FormControl => {
        const name = `${rowName}.${field.name}`;
        const value = values[field.name] ?? '';
        const options = optionsFor(list, field, value, choices);
        return {
          name,
          id: idOf(name),
          kind: options && field.kind !== 'select' ? 'select' : field.kind,
          ...(field.required && item !== undefined && { required: true }),
          ...(field.rows && { rows: field.rows }),
          ...(options && { options }),
          value,
          label: labelOf(t, `${list.name}.${field.name}`),
          errors: errorsOf(problems, name, true),
        };
      });
      const inGroup = (group: RowField['group']) =>
        controls.filter((_, i) => (list.fields[i] as RowField).group === group);
      const groups = (['pressContact', 'social'] as const)
        .map((group) => ({ legend: labelOf(t, `publishers.${group}`), controls: inGroup(group) }))
        .filter((g) => g.controls.length > 0);
      return {
        name: rowName,
        id: idOf(rowName),
        legend: `${labelOf(t, `${list.name}.row`)} ${position + 1}`,
        existing: item !== undefined,
        controls: inGroup(undefined),
        groups,
        // Its own, and those of its item no control of it shows (an unknown field of it).
        errors: problems
          .filter(
            (p) =>
              p.field === rowName ||
              (p.field.startsWith(`${rowName}.`) &&
                !controls.some((c) => p.field === c.name || p.field.startsWith(`${c.name}.`))),
          )
          .map((p) => p.message),
      };
    });
    return {
      name: list.name,
      legend: labelOf(t, list.name),
      rows,
      // Its own, and those of its items no row shows (a publisher named by its id is a check box).
      errors: problems
        .filter(
          (p) =>
            p.field === list.name ||
            (p.field.startsWith(`${list.name}[`) &&
              !rows.some((r) => p.field === r.name || p.field.startsWith(`${r.name}.`))),
        )
        .map((p) => (p.field === list.name ? p.message : `${p.field}: ${p.message}`)),
      ...(organizations && { organizations }),
      canAdd: items.length < list.limit,
      addLabel: labelOf(t, `${list.name}.add`),
      removeLabel: labelOf(t, `${list.name}.remove`),
    };
  });
}

/** The highest row index a form may send: far above every list's limit, low enough to refuse early. */
const maxRowIndex = 999;

const rowPattern = /^(publishers|quotes|figures|links|attachments|images)\[(\d{1,4})\]\.([A-Za-z.]+)$/;
/** Names a form sends besides its fields. */
const formOwnNames = new Set(['csrf', 'version', 'body', 'preview', 'add']);

/** The form's values read back, and what in it cannot be taken (an unknown name, too many rows). */
export interface ReadForm {
  frontMatter: Record<string, unknown>;
  problems: FieldProblem[];
}

/**
 * The front matter with the form's values: a value equal to what the file shows is the file's
 * own (same type, same list, same item); an emptied optional field is removed; an absent field
 * set to its default stays absent. A name that is no field of the form (`quotes[__proto__]`),
 * a row past the list's limit, or a file that is none of the workspace's is refused: problems,
 * nothing taken from it.
 */
export function readForm(
  frontMatter: Record<string, unknown>,
  form: URLSearchParams,
  choices: FormChoices = noChoices,
): ReadForm {
  const result: Record<string, unknown> = { ...frontMatter };
  const problems: FieldProblem[] = [];
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
  // The rows sent, by list and index: only names of the form's own fields are taken.
  const rows = new Map<string, Map<number, Record<string, string>>>();
  const removed = new Set<string>();
  const plain = new Set(formFields.map((f) => f.name));
  for (const [name, raw] of form) {
    if (plain.has(name) || formOwnNames.has(name) || name === 'publishers') continue;
    const match = rowPattern.exec(name);
    const list = match && listFields.find((l) => l.name === match[1]);
    const index = Number(match?.[2]);
    const sub = match?.[3] ?? '';
    if (!match || !list || (sub !== 'remove' && !list.fields.some((f) => f.name === sub))) {
      // The first one is named; a form full of them gives one problem, not thousands.
      if (!problems.some((p) => p.field === '' && p.message.startsWith('the form sent a field')))
        problems.push({
          field: '',
          message: `the form sent a field this form does not have, "${name.slice(0, 80)}": reload the form and fill it again`,
        });
      continue;
    }
    if (index > Math.min(maxRowIndex, list.limit)) {
      if (!problems.some((p) => p.field === list.name))
        problems.push({
          field: list.name,
          message: `has too many rows: at most ${list.limit} ${list.name}; remove some`,
        });
      continue;
    }
    const key = `${list.name}[${index}]`;
    if (sub === 'remove') {
      if (raw !== '') removed.add(key);
      continue;
    }
    const byIndex = rows.get(list.name) ?? new Map<number, Record<string, string>>();
    rows.set(list.name, byIndex);
    const values = byIndex.get(index) ?? {};
    const field = list.fields.find((f) => f.name === sub);
    values[sub] = field?.kind === 'textarea' ? raw.replace(/\r\n/g, '\n').trim() : raw.trim();
    byIndex.set(index, values);
  }
  for (const list of listFields) {
    const byIndex = rows.get(list.name);
    const checked = list.name === 'publishers' && form.has('publishers');
    if (!byIndex && !checked) continue;
    const before: unknown[] = Array.isArray(frontMatter[list.name])
      ? (frontMatter[list.name] as unknown[])
      : [];
    const ids = [...new Set(form.getAll('publishers').filter(Boolean))];
    const items: unknown[] = [];
    const take = (index: number) => {
      if (removed.has(`${list.name}[${index}]`)) return;
      const was = before[index];
      const values = byIndex?.get(index);
      if (typeof was === 'string' && list.name === 'publishers') {
        if (ids.includes(was)) items.push(was);
        return;
      }
      // A row left as it was (or not sent) is the file's own item: its types, its fields.
      if (
        was !== undefined &&
        (!values || isDeepStrictEqual({ ...rowValues(list, was), ...values }, rowValues(list, was)))
      ) {
        items.push(was);
        return;
      }
      const item = values && rowItem(list, values);
      if (item === undefined) return;
      const file = list.fields.some((f) => f.kind === 'file') ? values?.file : undefined;
      const offered = list.name === 'images' ? choices.images : choices.attachments;
      const wasFile = was === undefined ? undefined : rowValues(list, was).file;
      if (file && file !== wasFile && !offered.includes(file))
        problems.push({
          field: `${list.name}[${items.length}].file`,
          message: `"${file.slice(0, 200)}" is not a file of the workspace's publications/${list.name}/ folder: put the file there, then choose it in the list`,
          value: file,
        });
      items.push(item);
    };
    for (const index of before.keys()) take(index);
    // Then the organisations newly checked, then the new rows.
    if (list.name === 'publishers') items.push(...ids.filter((id) => !before.includes(id)));
    for (const index of [...(byIndex?.keys() ?? [])].sort((a, b) => a - b))
      if (index >= before.length) take(index);
    if (isDeepStrictEqual(items, frontMatter[list.name])) continue;
    if (items.length === 0 && !list.required) delete result[list.name];
    else result[list.name] = items;
  }
  return { frontMatter: result, problems };
}

/** The lists to which the form's "add a row" button asked for one more empty row. */
export function addedRows(form: URLSearchParams): Partial<Record<string, number>> {
  const list = form.get('add');
  return list && listFields.some((l) => l.name === list) ? { [list]: 1 } : {};
}

/**
 * The front matter of a new release from its form: the fields in the format's order (title
 * first, as people write them), then the lists.
 */
export function newReleaseFrontMatter(
  start: Record<string, unknown>,
  form: URLSearchParams,
  choices: FormChoices = noChoices,
): ReadForm {
  const { frontMatter: given, problems } = readForm(start, form, choices);
  const order = [...formFields.map((f) => f.name), ...listFields.map((l) => l.name)];
  return {
    frontMatter: Object.fromEntries(
      order.filter((name) => given[name] !== undefined).map((name) => [name, given[name]]),
    ),
    problems,
  };
}
