import { z } from 'zod';
import { publicationLimits as max } from '../limits.ts';
import { json, type PublicResponse } from '../public/http.ts';
import { archiveAnswer, errorResponse, fieldProblem, problemsResponse, type Route } from './api.ts';
import { publishIssueFromAdmin } from './archive.ts';
import { draftIssueFile, findIssue, listIssues, previewIssue, saveIssue } from './newsletters.ts';
import type { AdminReleaseDeps } from './releases.ts';

/**
 * The Newsletters section's JSON API, under `/admin/api/newsletters`: the same core functions
 * as its pages (newsletters.ts), each route's request and response a zod schema that api.ts
 * checks and puts in the OpenAPI document.
 */

const archiveState = z
  .object({ state: z.enum(['public', 'private']), version: z.string() })
  .describe('What the archive holds of it (pressroom newsletter publish); absent when never published');

const issueListItem = z.object({
  id: z.string().describe('The issue id: its `id` field, else its file name; campaigns name it'),
  file: z.string().describe('The issue file, inside the workspace: `newsletters/<name>.md`'),
  title: z.string().optional(),
  date: z.string().optional(),
  items: z.number().int().describe('How many items it has'),
  problems: z.number().int().describe('How many problems keep it from rendering'),
  archive: archiveState.optional(),
});

export const issueItem = z
  .strictObject({
    release: z.string().max(200).optional().describe('A published public release, by its slug'),
    title: z
      .string()
      .max(max.title)
      .optional()
      .describe("An inline item's title; a release item's replaced title"),
    summary: z.string().max(max.lead).optional().describe("Inline Markdown; a release item's replaced lead"),
    url: z.string().max(max.url).optional().describe("An inline item's link (absolute http(s))"),
    image: z.string().max(max.url).optional().describe('An absolute https:// image URL'),
  })
  .describe('An item: { release, title?, summary?, image? } or { title, summary, url, image? }');

export const draftRequest = z
  .strictObject({
    since: z.string().max(10).describe('The first release date to list, YYYY-MM-DD'),
    lang: z.enum(['fr', 'en']).optional().describe("The issue's language (default: the workspace's)"),
  })
  .describe('What `pressroom newsletter draft --since` is given');

export const issueSaveRequest = z
  .strictObject({
    version: z.string().describe('The `version` the issue was read at'),
    title: z.string().max(max.title).optional(),
    intro: z.string().max(max.intro).optional(),
    items: z
      .array(
        issueItem.extend({
          releaseTitle: z.string().optional().describe("Ignored (the release's own title, as GET gives it)"),
        }),
      )
      .max(max.items)
      .describe('Every item, in the new order: `itemList` as GET gives it, reordered and edited'),
  })
  .describe('The edited issue: its title, intro and items, and the version it was read at');

const issuePreview = z.object({
  id: z.string(),
  subject: z.string(),
  email: z.object({
    html: z.string().describe('The email filled for the sample recipient (preview.html)'),
    text: z.string().describe('Its text part (preview.txt)'),
  }),
  notices: z.array(z.string()),
});

const missingSection = () =>
  json(503, {
    error: 'the newsletters section is not set up on this server: run pressroom serve inside a workspace',
  });
const noIssue = (id: string | undefined) =>
  json(404, { error: `no newsletter issue "${id}" in the workspace` });
const problems = (error: string, list: unknown[]) => json(422, { error, problems: list });

/** The route's answer, or 503 when the section is not set up. */
function withSection(
  answer: Route['answer'],
): (input: Parameters<Route['answer']>[0], deps: AdminReleaseDeps) => Promise<PublicResponse> {
  return (input, deps) => (deps.newsletters ? answer(input, deps) : Promise.resolve(missingSection()));
}

/** The routes, made when api.ts builds its list (they use its schemas). */
export function newsletterRoutes(): Route[] {
  const issueDetail = issueListItem.extend({
    lang: z.string().optional(),
    intro: z.string(),
    itemList: z
      .array(issueItem.extend({ releaseTitle: z.string().optional().describe("The release's own title") }))
      .describe('The items in order'),
    problemList: z.array(fieldProblem),
    version: z.string().describe("The SHA-256 of the file's bytes: a save names it"),
  });
  const notFound = { description: 'No issue of the workspace has this id', schema: errorResponse };
  return [
    {
      method: 'GET',
      path: '/newsletters',
      summary: "The workspace's newsletter issues (its newsletters/ folder), newest first",
      responses: {
        200: { description: 'The issues', schema: z.object({ issues: z.array(issueListItem) }) },
        503: { description: 'No newsletters section here', schema: errorResponse },
      },
      answer: withSection(async (_input, deps) => json(200, { issues: await listIssues(deps) })),
    },
    {
      method: 'POST',
      path: '/newsletters',
      summary:
        'Drafts a new issue from the public releases since a day, as `pressroom newsletter draft` does: newsletters/newsletter-<today>.md, never overwritten',
      body: draftRequest,
      responses: {
        201: { description: 'Drafted', schema: z.object({ issue: issueDetail }) },
        409: { description: "Today's draft file exists: nothing was written", schema: errorResponse },
        422: {
          description: 'A bad date, or no public release since it: nothing was written',
          schema: problemsResponse,
        },
      },
      answer: withSection(async ({ body }, deps) => {
        const result = await draftIssueFile(deps, body as z.infer<typeof draftRequest>);
        if ('conflict' in result) return json(409, { error: result.conflict });
        if ('problems' in result) return problems('nothing to draft; nothing was written', result.problems);
        return json(201, { issue: result.created });
      }),
    },
    {
      method: 'GET',
      path: '/newsletters/{id}',
      summary: 'One issue: its title, intro, items in order, problems and version',
      responses: { 200: { description: 'The issue', schema: issueDetail }, 404: notFound },
      answer: withSection(async ({ params }, deps) => {
        const found = await findIssue(deps, params.id ?? '');
        return found ? json(200, found) : noIssue(params.id);
      }),
    },
    {
      method: 'PUT',
      path: '/newsletters/{id}',
      summary:
        'Saves an edited issue (title, intro, items in order) into its own file, rewriting only what changed: saved unchanged, it stays byte for byte the same and is not written',
      body: issueSaveRequest,
      responses: {
        200: {
          description: 'Saved (written: false when nothing changed)',
          schema: z.object({ issue: issueDetail, written: z.boolean() }),
        },
        404: notFound,
        409: {
          description: 'The file changed since it was read: nothing was written',
          schema: errorResponse,
        },
        422: { description: 'Problems, per field: nothing was written', schema: problemsResponse },
      },
      answer: withSection(async ({ params, body }, deps) => {
        const { items, ...edit } = body as z.infer<typeof issueSaveRequest>;
        const result = await saveIssue(deps, params.id ?? '', {
          ...edit,
          items: items.map(({ releaseTitle: _t, ...item }) => item),
        });
        if (!result) return noIssue(params.id);
        if ('conflict' in result) return json(409, { error: result.conflict });
        if ('problems' in result)
          return problems('the issue has problems; nothing was written', result.problems);
        return json(200, { issue: result.saved, written: result.written });
      }),
    },
    {
      method: 'GET',
      path: '/newsletters/{id}/preview',
      summary:
        "The issue's email as the sample recipient gets it, and its text part, as `pressroom newsletter render` makes preview.html and preview.txt",
      responses: {
        200: { description: 'The preview', schema: issuePreview },
        404: notFound,
        422: { description: 'The issue has problems', schema: problemsResponse },
      },
      answer: withSection(async ({ params }, deps) => {
        const result = await previewIssue(deps, params.id ?? '');
        if (!result) return noIssue(params.id);
        if ('problems' in result) return problems('the issue has problems', result.problems);
        return json(200, result.preview);
      }),
    },
    {
      method: 'POST',
      path: '/newsletters/{id}/publish',
      summary:
        'Publishes the saved issue file into the archive (and a public one on the press room), as `pressroom newsletter publish` does; a campaign can send it from then on',
      responses: {
        200: {
          description: 'Published (or replaced)',
          schema: z
            .object({
              id: z.string(),
              title: z.string(),
              version: z.string(),
              state: z.enum(['public', 'private']),
              action: z.enum(['created', 'updated', 'replaced']),
              url: z.string().optional(),
              releases: z.array(z.string()),
              siteObjectsWritten: z.number().int(),
              notices: z.array(z.string()),
            })
            .describe('What `pressroom newsletter publish --json` prints'),
        },
        202: {
          description:
            'Handed over to be published apart (on AWS: the publish function, started by the file written again without its draft mark); the archive has it in a few seconds',
          schema: z.object({ id: z.string(), file: z.string(), message: z.string() }),
        },
        404: notFound,
        409: {
          description: 'Refused (its id used by another issue): nothing changed',
          schema: errorResponse,
        },
        422: { description: 'The issue has problems: nothing changed', schema: problemsResponse },
      },
      answer: withSection(async ({ params }, deps) =>
        archiveAnswer(
          await publishIssueFromAdmin(deps, params.id ?? ''),
          'publishing: the publish function publishes the issue from its file; a campaign can send it in a few seconds',
        ),
      ),
    },
  ];
}
