import Handlebars from 'handlebars';
import type { PublishResult } from '../archive/publish.ts';
import type { WithdrawResult } from '../archive/withdraw.ts';
import type { Language } from '../publication/schema.ts';
import type { HandedOver, WithdrawalHandedOver } from './archive.ts';
import {
  type FormChoices,
  type FormControl,
  type FormList,
  formControls,
  formFields,
  formLists,
  listFields,
  noChoices,
} from './form.ts';
import { translateProblem } from './problem-translations.ts';
import type { FieldProblem, ReleaseDetail, ReleaseListItem, ReleasePreview } from './releases.ts';

/**
 * The admin's pages: Handlebars templates (`templates/admin/*.html.hbs`) around one layout,
 * their fixed strings in French and English (`templates/admin/locales/*.yaml`), and two
 * static files (a script, a style sheet). Read by an adapter, like every template.
 */
export interface AdminTemplates {
  pages: {
    layout: string;
    signIn: string;
    releases: string;
    release: string;
    edit: string;
    /** The form's fields, a partial of the edit and create forms. */
    fields: string;
    /** The live preview of the edit and create forms, a partial. */
    previews: string;
    create: string;
    archive: string;
    notFound: string;
  };
  /** Fixed strings by language. */
  locales: Record<Language, Record<string, string>>;
  /** Static files by name (`admin.js`, `admin.css`): served under /admin/assets/. */
  assets: Record<string, { type: string; body: string }>;
}

/** What every page is given: the CSRF token of the session (for the sign-out form). */
interface PageBase {
  csrf: string;
}

export interface AdminPages {
  t: Record<string, string>;
  /** The pages' language: problems shown in them are translated into it. */
  lang: Language;
  signIn(view: PageBase & { error?: string }): string;
  releases(view: PageBase & { query: string; releases: ReleaseListItem[] }): string;
  release(
    view: PageBase & {
      release: ReleaseDetail;
      preview?: ReleasePreview;
      problems: FieldProblem[];
      saved?: 'written' | 'unchanged' | 'created';
      /** Why the PDF preview could not be printed (no browser). */
      pdfUnavailable?: string;
    },
  ): string;
  /** The edit form: the front matter and body to show (the file's, or those of a refused save). */
  edit(
    view: PageBase & {
      release: ReleaseDetail;
      frontMatter: Record<string, unknown>;
      body: string;
      version: string;
      problems?: FieldProblem[];
      conflict?: string;
      /** The organisations and files the lists choose from. */
      choices?: FormChoices;
      /** Empty rows asked for besides the one each list has ("add a row"). */
      extra?: Partial<Record<string, number>>;
    },
  ): string;
  /** The form of a new release: the data typed so far, the workspace's organisations. */
  create(
    view: PageBase & {
      frontMatter: Record<string, unknown>;
      body: string;
      choices: FormChoices;
      problems?: FieldProblem[];
      conflict?: string;
      extra?: Partial<Record<string, number>>;
    },
  ): string;
  /** Publish or withdraw: the confirmation, or what was done (or refused). */
  archive(
    view: PageBase & {
      release: ReleaseDetail;
      action: 'publish' | 'withdraw';
      done?: PublishResult | WithdrawResult;
      /** Handed over to be published or withdrawn apart (AWS): where its page will be. */
      handedOver?: HandedOver | WithdrawalHandedOver;
      refused?: string;
      problems?: FieldProblem[];
      reason?: string;
    },
  ): string;
  notFound(view: PageBase): string;
  /**
   * A section's page (contacts, campaigns, newsletters: their own templates) in the same
   * setup as every other page: the layout and its language switch, the fixed strings, the
   * helpers, and the messages of `problems` and `previewProblems` in this language.
   */
  render(source: string, view: PageBase & Record<string, unknown>): string;
  /** Problems with their messages in this language (for those a page shows beside their fields). */
  translated<P extends { message: string }>(problems: P[]): P[];
}

type Compiled = Record<
  Exclude<keyof AdminTemplates['pages'], 'fields' | 'previews'>,
  Handlebars.TemplateDelegate
> & {
  /** The sections' templates, compiled on first use by the same Handlebars. */
  section(source: string): Handlebars.TemplateDelegate;
};

const compiled = new WeakMap<AdminTemplates, Compiled>();

function compile(templates: AdminTemplates): Compiled {
  let pages = compiled.get(templates);
  if (!pages) {
    const hb = Handlebars.create();
    hb.registerPartial('layout', templates.pages.layout);
    hb.registerPartial('fields', templates.pages.fields);
    hb.registerPartial('previews', templates.pages.previews);
    hb.registerHelper('concat', (...parts: unknown[]) => parts.slice(0, -1).map(String).join(''));
    // "{{uri slug}}": a path segment.
    hb.registerHelper('uri', (value: unknown) => encodeURIComponent(String(value)));
    hb.registerHelper('is', (a: unknown, b: unknown) => String(a) === String(b));
    // preventIndent: a partial's output (a text area's lines) is not indented like its tag.
    const c = (source: string) => hb.compile(source, { strict: false, preventIndent: true });
    const sections = new Map<string, Handlebars.TemplateDelegate>();
    pages = {
      layout: c(templates.pages.layout),
      signIn: c(templates.pages.signIn),
      releases: c(templates.pages.releases),
      release: c(templates.pages.release),
      edit: c(templates.pages.edit),
      create: c(templates.pages.create),
      archive: c(templates.pages.archive),
      notFound: c(templates.pages.notFound),
      section: (source) => {
        let done = sections.get(source);
        if (!done) {
          done = c(source);
          sections.set(source, done);
        }
        return done;
      },
    };
    compiled.set(templates, pages);
  }
  return pages;
}

/** The form's controls and lists, and the problems of no field it shows: those go above the form. */
function controlsOf(
  frontMatter: Record<string, unknown>,
  problems: FieldProblem[],
  t: Record<string, string>,
  choices: FormChoices = noChoices,
  extra: Partial<Record<string, number>> = {},
): { controls: FormControl[]; lists: FormList[]; problems: FieldProblem[] } {
  const shown = new Set([...formFields.map((f) => f.name), ...listFields.map((l) => l.name)]);
  return {
    controls: formControls(frontMatter, problems, t),
    lists: formLists(frontMatter, problems, t, choices, extra),
    problems: problems.filter((p) => !shown.has(p.field.split(/[.[]/)[0] ?? '')),
  };
}

/** The pages in one language; every value is escaped by the templates. */
export function adminPages(templates: AdminTemplates, lang: Language, here = '/admin/releases'): AdminPages {
  const pages = compile(templates);
  const t = templates.locales[lang];
  const base = { lang, t, here, other: lang === 'fr' ? 'en' : 'fr' };
  const translated = <P extends { message: string }>(problems: P[] = []) =>
    problems.map((p) => ({ ...p, message: translateProblem(p.message, lang) }));

  const withState = <T extends ReleaseListItem>(item: T) => {
    const state = item.problems > 0 ? 'invalid' : (item.archive?.state ?? 'draft');
    const key = `state${state.charAt(0).toUpperCase()}${state.slice(1)}`;
    return { ...item, stateClass: state, stateLabel: t[key] ?? state };
  };
  return {
    t,
    lang,
    signIn: (view) => pages.signIn({ ...base, ...view, signedOut: true }),
    releases: (view) => pages.releases({ ...base, ...view, releases: view.releases.map(withState) }),
    release: (view) =>
      pages.release({
        ...base,
        ...view,
        problems: translated(view.problems),
        release: withState(view.release),
      }),
    edit: ({ frontMatter, problems, choices, extra, ...view }) =>
      pages.edit({ ...base, ...view, ...controlsOf(frontMatter, translated(problems), t, choices, extra) }),
    create: ({ frontMatter, problems, choices, extra, ...view }) =>
      pages.create({ ...base, ...view, ...controlsOf(frontMatter, translated(problems), t, choices, extra) }),
    archive: ({ release, ...view }) =>
      pages.archive({
        ...base,
        ...view,
        ...(view.problems && { problems: translated(view.problems) }),
        release: withState(release),
        [view.action]: true,
      }),
    notFound: (view) => pages.notFound({ ...base, ...view }),
    translated,
    render: (source, view) =>
      pages.section(source)({
        ...base,
        ...view,
        ...(Array.isArray(view.problems) && { problems: translated(view.problems) }),
        ...(Array.isArray(view.previewProblems) && { previewProblems: translated(view.previewProblems) }),
      }),
  };
}
