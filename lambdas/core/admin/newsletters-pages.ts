import { type PublicRequest, type PublicResponse, pathParameter, plain } from '../public/http.ts';
import { proofEmailSecurityPolicy } from '../public/proof-page.ts';
import type { PageContext } from './admin.ts';
import { publishIssueFromAdmin } from './archive.ts';
import { adminPrefix, formTooLarge, html, notAllowed, postedForm, redirect, withHeaders } from './http.ts';
import {
  draftIssueFile,
  findIssue,
  type IssueItemEdit,
  type IssueListItem,
  isIssueId,
  listIssues,
  previewIssue,
  recentReleases,
  saveIssue,
} from './newsletters.ts';
import { translateProblem } from './problem-translations.ts';
import type { FieldProblem } from './releases.ts';

/**
 * The Newsletters section's pages, under /admin/newsletters: the issues of the workspace and
 * a form that drafts a new one (newsletters.ts's draftIssueFile, `pressroom newsletter draft`),
 * and an issue's page: one form with its title, intro and items in order, each with move up,
 * move down and remove buttons (plain POST forms: the page comes back with the change, not
 * saved yet, focus on the moved item's button), a release to add, and Save, which writes
 * the issue file (only what changed); below, the saved issue's email at 640 and 375 px in
 * sandboxed frames and its text part; "Send…" hands over to the campaigns section's
 * compose page. The CSRF check was made by the router.
 */

/** A day `days` before `now`, YYYY-MM-DD: the draft form's starting "since". */
function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
}

/** What the issue page's form holds: the issue's title and intro and its items, saved or not. */
interface IssueState {
  title: string;
  intro: string;
  items: IssueItemEdit[];
}

/** The most items a form may post: the format's limit, and one being added. */
const maxFormItems = 101;

/** The form's fields as an issue state; undefined when they are not the form's (no count). */
function stateOf(form: URLSearchParams): IssueState | undefined {
  const count = Number(form.get('count'));
  if (!Number.isInteger(count) || count < 0 || count > maxFormItems) return undefined;
  const text = (name: string) => {
    const value = (form.get(name) ?? '').replace(/\r\n/g, '\n');
    return value.trim() === '' ? undefined : value;
  };
  const items: IssueItemEdit[] = [];
  for (let i = 0; i < count; i++) {
    const item: IssueItemEdit = {};
    for (const field of ['release', 'title', 'summary', 'url', 'image'] as const) {
      const value = text(`item-${i}-${field}`);
      if (value !== undefined) item[field] = field === 'summary' ? value : value.trim();
    }
    items.push(item);
  }
  return {
    title: (form.get('title') ?? '').trim(),
    intro: (form.get('intro') ?? '').replace(/\r\n/g, '\n'),
    items,
  };
}

/** The form's action applied to its state: a move, a removal, an addition; or what is wrong with it. */
function applyAction(
  state: IssueState,
  action: string,
  added: string | undefined,
  t: Record<string, string>,
): { state: IssueState; focus?: { index: number; button: 'up' | 'down' | 'add' } } | { error: string } {
  const items = [...state.items];
  if (action === 'add') {
    if (!added) return { error: t.newslettersAddNothing ?? '' };
    items.push({ release: added });
    return { state: { ...state, items }, focus: { index: items.length - 1, button: 'add' } };
  }
  const match = /^(up|down|remove)-(\d{1,4})$/.exec(action);
  if (!match) return { error: t.newslettersUnknownAction ?? '' };
  const verb = match[1] as 'up' | 'down' | 'remove';
  const index = Number(match[2]);
  const target = verb === 'up' ? index - 1 : verb === 'down' ? index + 1 : index;
  if (index >= items.length || target < 0 || target >= items.length)
    return {
      error: (t.newslettersOutOfRange ?? '')
        .replace('{item}', String(index + 1))
        .replace('{count}', String(items.length)),
    };
  if (verb === 'remove') {
    items.splice(index, 1);
    return { state: { ...state, items } };
  }
  const [moved] = items.splice(index, 1);
  if (moved) items.splice(target, 0, moved);
  return { state: { ...state, items }, focus: { index: target, button: verb } };
}

/** Answers a signed-in request under /admin/newsletters. */
export async function answerNewslettersPage(
  request: PublicRequest,
  method: string,
  context: PageContext,
): Promise<PublicResponse> {
  const { releases, pages, csrf } = context;
  const section = releases.newsletters;
  if (!section)
    return withHeaders(
      plain(
        503,
        'The newsletters section is not set up on this server: run pressroom serve inside a workspace\n',
      ),
      {},
    );
  const t = pages.t;
  const base = { csrf };
  const rest = request.path.slice(`${adminPrefix}/newsletters`.length);

  const listPage = async (
    status: number,
    extra: { since?: string; problems?: FieldProblem[]; conflict?: string },
  ) =>
    html(
      status,
      pages.render(section.pages.list, {
        ...base,
        since: daysBefore(releases.now, 31),
        draftLang: section.lang,
        issues: (await listIssues(releases)).map((issue) => withState(issue, t)),
        sinceErrors: pages.translated(extra.problems ?? []).map((p) => p.message),
        ...extra,
      }),
    );

  if (rest === '' || rest === '/') {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed('GET, HEAD');
    return listPage(200, {});
  }
  if (rest === '/new') {
    if (method !== 'POST') return redirect(`${adminPrefix}/newsletters`);
    const form = (await postedForm(request))?.fields;
    if (!form) return formTooLarge();
    const since = form.get('since') ?? '';
    const lang = form.get('lang');
    const result = await draftIssueFile(releases, {
      since,
      ...((lang === 'fr' || lang === 'en') && { lang }),
    });
    if ('created' in result)
      return redirect(`${adminPrefix}/newsletters/${encodeURIComponent(result.created.id)}?saved=created`);
    return 'conflict' in result
      ? listPage(409, { since, conflict: result.conflict })
      : listPage(422, { since, problems: result.problems });
  }

  const match = /^\/([^/]+)(?:\/(email|publish))?$/.exec(rest);
  const id = match?.[1] === undefined ? undefined : pathParameter(match[1], '');
  const notFound = () => html(404, pages.notFound({ csrf }));
  // An id is a slug: "../x" and the like are never looked up.
  if (id === undefined || !isIssueId(id)) return notFound();
  const issue = await findIssue(releases, id);
  if (!issue) return notFound();

  if (match?.[2] === 'email') {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed('GET, HEAD');
    const result = await previewIssue(releases, id);
    if (!result || 'problems' in result)
      return withHeaders(
        plain(
          422,
          (result?.problems ?? [])
            .map((p) => `${p.field ? `${p.field}: ` : ''}${translateProblem(p.message, pages.lang)}`)
            .join('\n'),
        ),
        { 'content-security-policy': "default-src 'none'; sandbox", 'x-frame-options': 'SAMEORIGIN' },
      );
    return withHeaders(
      {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: result.preview.email.html,
      },
      {
        'content-security-policy': `${proofEmailSecurityPolicy}; sandbox allow-popups allow-popups-to-escape-sandbox`,
        'x-frame-options': 'SAMEORIGIN',
      },
    );
  }

  const recent = await recentReleases(releases);
  const issuePage = async (
    status: number,
    state: IssueState,
    extra: {
      unsaved?: boolean;
      error?: string;
      conflict?: string;
      problems?: FieldProblem[];
      saved?: string;
      version?: string;
      confirmPublish?: boolean;
      published?: string;
      refused?: string;
      focus?: { index: number; button: 'up' | 'down' | 'add' };
    } = {},
  ) => {
    const problems = pages.translated(extra.problems ?? []);
    const errorsOf = (field: string) => problems.filter((p) => p.field === field).map((p) => p.message);
    const shown = new Set<string>();
    const titles = new Map(issue.itemList.map((i) => [i.release, i.releaseTitle]));
    const recentTitles = new Map(recent.map((r) => [r.slug, r.title]));
    const items = state.items.map((item, index) => {
      const fields = ['title', 'summary', 'url', 'image'].map((name) => {
        const key = `items[${index}].${name}`;
        shown.add(key);
        const label = t[`newslettersField${name.charAt(0).toUpperCase()}${name.slice(1)}`] ?? name;
        return { name, label, value: item[name as keyof IssueItemEdit] ?? '', errors: errorsOf(key) };
      });
      shown.add(`items[${index}].release`);
      shown.add(`items[${index}]`);
      const focus = extra.focus?.index === index ? extra.focus.button : undefined;
      const last = index === state.items.length - 1;
      return {
        ...item,
        index,
        position: index + 1,
        releaseTitle: item.release ? (titles.get(item.release) ?? recentTitles.get(item.release)) : undefined,
        fields: fields.filter((f) => !item.release || f.name !== 'url'),
        errors: [...errorsOf(`items[${index}]`), ...errorsOf(`items[${index}].release`)],
        first: index === 0,
        last,
        // After a move, focus stays on the moved item: the same button, or the other one at an end.
        focusUp:
          (focus === 'up' && index > 0) || (focus === 'down' && last) || (focus === 'add' && index > 0),
        focusDown: (focus === 'down' && !last) || (focus === 'up' && index === 0 && !last),
      };
    });
    shown.add('title');
    shown.add('intro');
    const preview = extra.unsaved ? undefined : await previewIssue(releases, issue.id);
    return html(
      status,
      pages.render(section.pages.issue, {
        ...base,
        issue: withState(issue, t),
        title: state.title,
        intro: state.intro,
        titleErrors: errorsOf('title'),
        introErrors: errorsOf('intro'),
        items,
        count: items.length,
        recent,
        version: extra.version ?? issue.version,
        unsaved: extra.unsaved === true,
        error: extra.error,
        conflict: extra.conflict,
        problems: problems.filter((p) => !shown.has(p.field)),
        saved: extra.saved,
        confirmPublish: extra.confirmPublish,
        published: extra.published,
        refused: extra.refused,
        ...(preview && 'preview' in preview && { preview: preview.preview }),
        ...(preview && 'problems' in preview && { previewProblems: preview.problems }),
      }),
    );
  };

  const saved = { title: issue.title ?? '', intro: issue.intro, items: issue.itemList.map(withoutTitle) };
  if (match?.[2] === 'publish') {
    // GET asks to confirm; POST publishes the saved file as `pressroom newsletter publish` does.
    if (method === 'GET' || method === 'HEAD') return issuePage(200, saved, { confirmPublish: true });
    if (method !== 'POST') return notAllowed('GET, HEAD, POST');
    const outcome = await publishIssueFromAdmin(releases, issue.id);
    if ('done' in outcome)
      return redirect(
        `${adminPrefix}/newsletters/${encodeURIComponent(issue.id)}?published=${outcome.done.action}`,
      );
    if ('missing' in outcome) return notFound();
    // On the stack: the publish function publishes it in a few seconds.
    if ('handedOver' in outcome) return issuePage(202, saved, { published: 'handed-over' });
    return issuePage(outcome.problems ? 422 : 409, saved, {
      refused: outcome.refused,
      ...(outcome.problems && { problems: outcome.problems }),
    });
  }
  if (method === 'GET' || method === 'HEAD') {
    const note = request.query?.saved;
    const published = request.query?.published;
    return issuePage(200, saved, {
      ...(note && ['written', 'unchanged', 'created'].includes(note) && { saved: note }),
      ...(published && ['created', 'updated', 'replaced'].includes(published) && { published }),
    });
  }
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();
  const posted = stateOf(form);
  const version = form.get('version') ?? '';
  if (!posted) return issuePage(400, saved, { error: t.newslettersBadForm ?? '' });
  const action = form.get('action') ?? 'save';
  if (action === 'save') {
    const result = await saveIssue(releases, issue.id, { version, ...posted });
    if (!result) return notFound();
    if ('conflict' in result)
      return issuePage(409, posted, { unsaved: true, version, conflict: result.conflict });
    if ('problems' in result)
      return issuePage(422, posted, { unsaved: true, version, problems: result.problems });
    return redirect(
      `${adminPrefix}/newsletters/${encodeURIComponent(result.saved.id)}?saved=${result.written ? 'written' : 'unchanged'}`,
    );
  }
  const added = form.get('add') ?? undefined;
  if (action === 'add' && added && !recent.some((r) => r.slug === added))
    return issuePage(400, posted, { unsaved: true, version, error: t.newslettersNotPublic ?? '' });
  const applied = applyAction(posted, action, added, t);
  if ('error' in applied) return issuePage(400, posted, { unsaved: true, version, error: applied.error });
  return issuePage(200, applied.state, {
    unsaved: true,
    version,
    ...(applied.focus && { focus: applied.focus }),
  });
}

/** An item as the form edits it (the release's own title is shown, not saved). */
function withoutTitle({
  releaseTitle: _r,
  ...item
}: IssueItemEdit & { releaseTitle?: string }): IssueItemEdit {
  return item;
}

/** The issue with its state's label: never published, public, private, or to fix. */
function withState<T extends IssueListItem>(issue: T, t: Record<string, string>) {
  const state = issue.problems > 0 ? 'invalid' : (issue.archive?.state ?? 'draft');
  const key = `state${state.charAt(0).toUpperCase()}${state.slice(1)}`;
  return { ...issue, stateClass: state, stateLabel: t[key] ?? state };
}
