import { z } from 'zod';
import { publicationLimits } from '../limits.ts';
import { json, type PublicResponse, pathParameter } from '../public/http.ts';
import { errorResponse, fieldProblem, problemsResponse } from './api-responses.ts';
import { type ArchiveOutcome, type PublishOutcome, publishFromAdmin, withdrawFromAdmin } from './archive.ts';
import { campaignRoutes } from './campaigns-api.ts';
import { contactsRoutes } from './contacts-api.ts';
import { newsletterRoutes } from './newsletters-api.ts';
import {
  type AdminReleaseDeps,
  createRelease,
  findRelease,
  listReleases,
  previewPublication,
  saveRelease,
} from './releases.ts';

/**
 * The admin's JSON API, under `/admin/api/`: each route's request and response are zod
 * schemas, which check what comes in and make the OpenAPI document (`/admin/api/openapi.json`).
 * Requests arrive already signed in (admin.ts); nothing here knows HTTP frameworks, so the
 * stack's admin function can put the same code behind its own sign-in.
 */

export const apiPrefix = '/admin/api';

export { errorResponse, fieldProblem, problemsResponse };

const archiveState = z
  .object({
    state: z.enum(['public', 'embargoed', 'private', 'withdrawn']),
    version: z.string(),
  })
  .describe('What the archive holds of it; absent when never published');

const releaseListItem = z.object({
  slug: z.string(),
  file: z.string().describe('The publication file, inside the workspace'),
  title: z.string().optional(),
  subtitle: z.string().optional(),
  date: z.string().optional(),
  lang: z.string().optional(),
  tags: z.array(z.string()),
  visibility: z.enum(['public', 'private']).optional(),
  embargo: z.string().optional(),
  problems: z.number().int().describe('How many problems keep it from rendering'),
  archive: archiveState.optional(),
});

const releaseDetail = releaseListItem.extend({
  frontMatter: z.record(z.string(), z.unknown()).describe('The front matter as written'),
  body: z.string().describe('The Markdown body'),
  problemList: z.array(fieldProblem),
  version: z.string().describe("The SHA-256 of the file's bytes: a save names it"),
});

export const previewRequest = z
  .strictObject({
    frontMatter: z
      .record(z.string(), z.unknown())
      .describe('The fields of the publication format (docs/publication-format.md)'),
    body: z.string().max(publicationLimits.body).describe('The Markdown body'),
  })
  .describe('Publication data to render');

const previewResponse = z.object({
  slug: z.string(),
  subject: z.string(),
  email: z.object({
    html: z.string().describe('The email filled for the sample recipient'),
    text: z.string(),
  }),
  page: z.string().describe('The web page'),
  notices: z.array(z.string()),
});

export const saveRequest = previewRequest
  .extend({ version: z.string().describe('The `version` the release was read at') })
  .describe('The edited release, and the version it was read at');

export const withdrawRequest = z
  .strictObject({
    reason: z.string().describe('Why, one line: recorded in the archive, never shown to the public'),
  })
  .describe('Why the release is withdrawn');

const publishResponse = z
  .object({
    slug: z.string(),
    title: z.string(),
    version: z.string(),
    state: z.enum(['public', 'embargoed', 'private', 'withdrawn']),
    action: z.enum(['created', 'updated', 'replaced']),
    url: z.string().optional().describe('Its page in the press room, when it is public'),
    embargo: z.string().optional().describe('When it becomes public (UTC), while it is embargoed'),
    pdf: z.object({ stored: z.boolean(), reason: z.string().optional() }),
    notices: z.array(z.string()),
  })
  .describe('What `pressroom publish --json` prints');

const withdrawResponse = z
  .object({
    slug: z.string(),
    title: z.string(),
    outcome: z.enum(['withdrawn', 'purged', 'already']),
    withdrawal: z.object({ at: z.string(), by: z.string(), reason: z.string() }),
  })
  .describe('What `pressroom archive withdraw --json` prints');

/** One route of the API: what it takes and answers, and the core function that answers. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** `/releases/{slug}`: `{name}` is a path parameter. */
  path: string;
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema: z.ZodType }>;
  answer(
    input: { params: Record<string, string>; query: unknown; body: unknown },
    deps: AdminReleaseDeps,
  ): Promise<PublicResponse>;
}

const listQuery = z.object({
  q: z.string().max(200).optional().describe('Words to find in titles, slugs, tags and file names'),
});

export const routes: Route[] = [
  {
    method: 'GET',
    path: '/releases',
    summary: 'The releases of the workspace, newest first',
    query: listQuery,
    responses: {
      200: { description: 'The releases', schema: z.object({ releases: z.array(releaseListItem) }) },
    },
    async answer({ query }, deps) {
      const { q } = query as z.infer<typeof listQuery>;
      return json(200, { releases: await listReleases(deps, q) });
    },
  },
  {
    method: 'GET',
    path: '/releases/{slug}',
    summary: 'One release: its front matter, body and problems',
    responses: {
      200: { description: 'The release', schema: releaseDetail },
      404: { description: 'No release has this slug', schema: errorResponse },
    },
    async answer({ params }, deps) {
      const found = await findRelease(deps, params.slug ?? '');
      return found ? json(200, found) : json(404, { error: `no release "${params.slug}" in the workspace` });
    },
  },
  {
    method: 'PUT',
    path: '/releases/{slug}',
    summary:
      'Saves an edited release into its own file: only what changed is rewritten (a release saved unchanged stays byte for byte the same, and is not written)',
    body: saveRequest,
    responses: {
      200: {
        description: 'Saved (written: false when nothing changed)',
        schema: z.object({ release: releaseDetail, written: z.boolean() }),
      },
      404: { description: 'No release has this slug', schema: errorResponse },
      409: { description: 'The file changed since it was read: nothing was written', schema: errorResponse },
      422: { description: 'Problems, per field: nothing was written', schema: problemsResponse },
    },
    async answer({ params, body }, deps) {
      const result = await saveRelease(deps, params.slug ?? '', body as z.infer<typeof saveRequest>);
      if (!result) return json(404, { error: `no release "${params.slug}" in the workspace` });
      if ('conflict' in result) return json(409, { error: result.conflict });
      if ('problems' in result)
        return json(422, {
          error: 'the release has problems; nothing was written',
          problems: result.problems,
        });
      return json(200, { release: result.saved, written: result.written });
    },
  },
  {
    method: 'POST',
    path: '/releases',
    summary:
      "Creates a release from scratch: a new publication file in the workspace's publications folder, named <date>-<slug>.md; never overwrites one",
    body: previewRequest,
    responses: {
      201: { description: 'Created', schema: z.object({ release: releaseDetail }) },
      409: {
        description: 'Another release has this slug, or the file name is taken: nothing was written',
        schema: errorResponse,
      },
      422: { description: 'Problems, per field: nothing was written', schema: problemsResponse },
    },
    async answer({ body }, deps) {
      const result = await createRelease(deps, body as z.infer<typeof previewRequest>);
      if ('conflict' in result) return json(409, { error: result.conflict });
      if ('problems' in result)
        return json(422, {
          error: 'the release has problems; nothing was written',
          problems: result.problems,
        });
      return json(201, { release: result.created });
    },
  },
  {
    method: 'POST',
    path: '/releases/{slug}/publish',
    summary:
      'Publishes the release from its file into the archive and the press room, as `pressroom publish` does (without a PDF under `pressroom serve`)',
    responses: {
      200: { description: 'Published (or updated, or under embargo)', schema: publishResponse },
      202: {
        description:
          'Handed over to be published apart (on AWS: the publish function, started by the file written again without its draft mark); the page appears in a few seconds',
        schema: z.object({
          slug: z.string(),
          file: z.string(),
          url: z.string().optional(),
          embargo: z.string().optional(),
          message: z.string(),
        }),
      },
      404: { description: 'No release has this slug', schema: errorResponse },
      409: {
        description: 'Refused (its slug published from another file, withdrawn before): nothing changed',
        schema: errorResponse,
      },
      422: { description: 'The file has problems: nothing changed', schema: problemsResponse },
    },
    async answer({ params }, deps) {
      return archiveAnswer(await publishFromAdmin(deps, params.slug ?? ''));
    },
  },
  {
    method: 'POST',
    path: '/releases/{slug}/withdraw',
    summary:
      'Takes a published release out of the press room, recording why, as `pressroom archive withdraw --reason` does',
    body: withdrawRequest,
    responses: {
      200: { description: 'Withdrawn (outcome already: it was before)', schema: withdrawResponse },
      202: {
        description:
          'Handed over to be withdrawn apart (on AWS: the publish function, started by a withdrawal request under publications/withdrawals/); its page says it was withdrawn in a few seconds',
        schema: z.object({ slug: z.string(), url: z.string().optional(), message: z.string() }),
      },
      404: { description: 'The release was never published', schema: errorResponse },
      409: {
        description: 'Refused (the reason is missing or too long): nothing changed',
        schema: errorResponse,
      },
    },
    async answer({ params, body }, deps) {
      const { reason } = body as z.infer<typeof withdrawRequest>;
      return archiveAnswer(
        await withdrawFromAdmin(deps, params.slug ?? '', reason),
        'withdrawing: the publish function takes the release out of the press room; in a few seconds its page says it was withdrawn',
      );
    },
  },
  {
    method: 'POST',
    path: '/releases/preview',
    summary:
      'Renders publication data as the email (HTML, text) and the page, with the same renderer as `pressroom render`',
    body: previewRequest,
    responses: {
      200: { description: 'The preview', schema: previewResponse },
      422: { description: 'Problems, per field', schema: problemsResponse },
    },
    async answer({ body }, deps) {
      const result = await previewPublication(deps, body as z.infer<typeof previewRequest>);
      return 'preview' in result
        ? json(200, result.preview)
        : json(422, { error: 'the publication has problems', problems: result.problems });
    },
  },
  // After the schemas above, which they use: hence a function.
  ...newsletterRoutes(),
  ...campaignRoutes,
  ...contactsRoutes,
];

/** What publishing or withdrawing did, as the API answers it; `handedOverMessage` says what happens next after a hand-over (202). */
export function archiveAnswer(
  outcome: ArchiveOutcome<unknown> | PublishOutcome | { handedOver: object },
  handedOverMessage = 'publishing: the publish function makes the release from its file; its page appears in a few seconds',
): PublicResponse {
  if ('missing' in outcome) return json(404, { error: outcome.missing });
  if ('refused' in outcome)
    return outcome.problems
      ? json(422, { error: outcome.refused, problems: outcome.problems })
      : json(409, { error: outcome.refused });
  if ('handedOver' in outcome) return json(202, { ...outcome.handedOver, message: handedOverMessage });
  return json(200, outcome.done);
}

/** `/releases/{slug}` against `/releases/etude`: the parameters, or undefined when it does not match. */
function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const segment = got[i] ?? '';
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) {
      const value = pathParameter(segment, '');
      if (!value) return undefined;
      params[name] = value;
    } else if (part !== segment) return undefined;
  }
  return params;
}

/** zod issues → problems of a request (its query or body), per field. */
function requestProblems(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
}

/**
 * Answers a signed-in request to the API. `path` is after `/admin/api`; `body` is the raw
 * request body (JSON).
 */
export async function answerApi(
  request: { method: string; path: string; query: Record<string, string | undefined>; body: string },
  deps: AdminReleaseDeps,
): Promise<PublicResponse> {
  if (request.path === '/openapi.json' && request.method === 'GET') return json(200, openApiDocument());
  // Literal routes before those with parameters: /releases/preview is not a slug.
  const candidates = routes
    .map((route) => ({ route, params: match(route.path, request.path) }))
    .filter((c) => c.params !== undefined)
    .sort((a, b) => Object.keys(a.params ?? {}).length - Object.keys(b.params ?? {}).length);
  if (candidates.length === 0) return json(404, { error: `no API route ${request.path}` });
  const found = candidates.find((c) => c.route.method === request.method);
  if (!found) {
    const allow = [...new Set(candidates.map((c) => c.route.method))].join(', ');
    return json(405, { error: `${request.method} is not allowed here: ${allow}` }, { allow });
  }
  const { route, params = {} } = found;
  const query = (route.query ?? z.object({})).safeParse(request.query);
  if (!query.success) return json(400, { error: 'bad query', problems: requestProblems(query.error) });
  let body: unknown;
  if (route.body) {
    try {
      body = JSON.parse(request.body);
    } catch {
      return json(400, { error: 'the body must be JSON' });
    }
    const checked = route.body.safeParse(body);
    if (!checked.success)
      return json(400, { error: 'bad request', problems: requestProblems(checked.error) });
    body = checked.data;
  }
  return route.answer({ params, query: query.data, body }, deps);
}

/** The OpenAPI 3.1 document of the API, made from the routes' schemas. */
export function openApiDocument(): Record<string, unknown> {
  const schema = (s: z.ZodType, io: 'input' | 'output') =>
    z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(route.query?.shape ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: !(s as z.ZodType).safeParse(undefined).success,
        schema: schema(s as z.ZodType, 'input'),
      })),
    ];
    paths[`${apiPrefix}${route.path}`] = {
      ...paths[`${apiPrefix}${route.path}`],
      [route.method.toLowerCase()]: {
        summary: route.summary,
        ...(parameters.length > 0 && { parameters }),
        ...(route.body && {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(route.body, 'input') } },
          },
        }),
        responses: Object.fromEntries(
          Object.entries({
            ...route.responses,
            401: { description: 'Not signed in', schema: errorResponse },
          }).map(([status, r]) => [
            status,
            {
              description: r.description,
              content: { 'application/json': { schema: schema(r.schema, 'output') } },
            },
          ]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'pressroom admin API',
      version: '0.1.0',
      description: 'The JSON API of the pressroom admin (docs/admin.md).',
    },
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The admin token (PRESSROOM_ADMIN_TOKEN)',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'pressroom_admin',
          description: 'A session from the sign-in form; changes need the X-CSRF-Token header',
        },
      },
    },
    security: [{ adminToken: [] }, { session: [] }],
    paths,
  };
}
