import { z } from 'zod';
import { json, type PublicResponse } from '../public/http.ts';
import type { Route } from './api.ts';
import { errorResponse as error, problemsResponse as problems } from './api-responses.ts';
import {
  type AdminCampaign,
  approveFromAdmin,
  type CampaignSectionDeps,
  campaignProgress,
  composeCampaign,
  findAdminCampaign,
  isRefusal,
  listAdminCampaigns,
  maxSubjectLength,
  pauseFromAdmin,
  proofFromAdmin,
  type Refusal,
  reportFromAdmin,
  resumeFromAdmin,
  scheduleFromAdmin,
  sendFromAdmin,
  testSendFromAdmin,
} from './campaigns.ts';
import type { AdminReleaseDeps } from './releases.ts';

/**
 * The campaigns' JSON API, under /admin/api/campaigns: the same core functions as the pages
 * (campaigns.ts), each route's request and answer a zod schema of the OpenAPI document.
 */

const state = z.enum(['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled']);

const listItem = z.object({
  name: z.string(),
  file: z.string().optional().describe("Its file in the workspace's campaigns/ folder"),
  state,
  publication: z.string().optional(),
  newsletter: z.string().optional(),
  lists: z.array(z.string()),
  sent: z.number().int(),
  failed: z.number().int(),
  remaining: z.number().int(),
  sendAt: z.object({ utc: z.string(), zone: z.string() }).optional(),
  problems: z.number().int().optional().describe('Problems of its file, when it does not load'),
});

const campaignDetail = z.object({
  name: z.string(),
  file: z.string().optional(),
  state,
  definition: z.record(z.string(), z.unknown()).describe('The campaign as `pressroom send` reads it'),
  audience: z.union([z.object({ count: z.number().int() }), z.object({ error: z.string() })]),
  content: z.object({
    title: z.string().optional(),
    embargo: z.string().optional(),
    missing: z.string().optional(),
  }),
  approval: z.object({ by: z.string(), at: z.string(), version: z.string() }).optional(),
  running: z.boolean().describe('This server is sending it now'),
});

export const composeRequest = z
  .strictObject({
    name: z.string().max(120).optional().describe('The campaign id; default <what it sends>-<today>'),
    content: z.string().max(200).describe('`release:<slug>` or `newsletter:<id>`'),
    lists: z.array(z.string().max(100)).max(50),
    tags: z.array(z.string().max(100)).max(50).optional(),
    tagsMode: z.enum(['any', 'all']).optional(),
    subject: z.string().max(maxSubjectLength).optional().describe("Default: the release's title"),
    from: z.string().max(300).optional().describe('"Name <address>"; default the workspace\'s sender'),
    approval: z.boolean().optional().describe('true: `approval: required`'),
  })
  .describe('A new campaign, written as campaigns/<name>.yaml');

export const scheduleRequest = z.strictObject({
  date: z.string().max(20).describe('YYYY-MM-DD'),
  time: z.string().max(10).describe('HH:MM'),
  zone: z.string().max(80).describe('An IANA zone, e.g. Europe/Paris'),
});

const progress = z.object({
  name: z.string(),
  state,
  finished: z.boolean(),
  audience: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  pending: z.number().int(),
  rate: z.number().optional().describe("Messages a second of this server's run"),
  etaSeconds: z.number().optional(),
  pausedReason: z.string().optional(),
  running: z.boolean(),
});

const refusals = {
  404: { description: 'No such campaign', schema: error },
  409: { description: 'Refused, nothing changed: the message says why and what to do', schema: error },
  422: { description: 'Problems, per field: nothing changed', schema: problems },
  503: { description: 'Campaigns are not available on this server', schema: error },
};

function answerRefusal(r: Refusal): PublicResponse {
  return r.problems ? json(422, { error: r.refused, problems: r.problems }) : json(409, { error: r.refused });
}

const unavailable = () =>
  json(503, { error: 'campaigns are not available here: run `pressroom serve` in a workspace' });

/** The route's answer with the campaign named in its path; 404 when none, 503 without campaigns. */
function withCampaign(
  answer: (
    deps: CampaignSectionDeps,
    campaign: AdminCampaign,
    body: unknown,
    now: Date,
  ) => Promise<PublicResponse>,
): Route['answer'] {
  return async ({ params, body }, releases: AdminReleaseDeps) => {
    const deps = releases.campaigns;
    if (!deps) return unavailable();
    const campaign = await findAdminCampaign(deps, params.name ?? '');
    if (!campaign)
      return json(404, { error: `no campaign "${params.name}": GET /admin/api/campaigns lists them` });
    return answer(deps, campaign, body, releases.now);
  };
}

const ok = <T>(result: T | Refusal, status = 200) =>
  isRefusal(result) ? answerRefusal(result) : json(status, result as object);

const detail = ({ source: _, status: __, ...campaign }: AdminCampaign) => campaign;

export const campaignRoutes: Route[] = [
  {
    method: 'GET',
    path: '/campaigns',
    summary: "The campaigns: the workspace's campaign files and the campaigns the store knows",
    responses: {
      200: { description: 'The campaigns', schema: z.object({ campaigns: z.array(listItem) }) },
      503: refusals[503],
    },
    async answer(_input, releases) {
      if (!releases.campaigns) return unavailable();
      return json(200, { campaigns: await listAdminCampaigns(releases.campaigns) });
    },
  },
  {
    method: 'POST',
    path: '/campaigns',
    summary:
      'Composes a campaign: writes campaigns/<name>.yaml, the file `pressroom send` reads; never overwrites one; refuses an unknown release and an empty audience',
    body: composeRequest,
    responses: {
      201: { description: 'Written', schema: z.object({ campaign: campaignDetail }) },
      409: { description: 'The name is taken: nothing written', schema: error },
      422: refusals[422],
      503: refusals[503],
    },
    async answer({ body }, releases) {
      if (!releases.campaigns) return unavailable();
      const input = body as z.infer<typeof composeRequest>;
      const result = await composeCampaign(
        releases.campaigns,
        { ...input, lists: input.lists, content: input.content },
        releases.now,
      );
      if ('created' in result) return json(201, { campaign: detail(result.created) });
      if ('conflict' in result) return json(409, { error: result.conflict });
      return json(422, {
        error: 'the campaign has problems; nothing was written',
        problems: result.problems,
      });
    },
  },
  {
    method: 'GET',
    path: '/campaigns/{name}',
    summary: 'One campaign: what it sends, to how many, its state and approval',
    responses: {
      200: { description: 'The campaign', schema: campaignDetail },
      404: refusals[404],
      503: refusals[503],
    },
    answer: withCampaign(async (_deps, campaign) => json(200, detail(campaign))),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/proof',
    summary: 'Makes a proof as `pressroom proof` does, and answers its signed link (valid 7 days)',
    responses: {
      200: {
        description: 'The proof',
        schema: z.object({
          url: z.string(),
          expiresAt: z.string(),
          version: z.string(),
          subject: z.string(),
          approvalRequired: z.boolean(),
        }),
      },
      ...refusals,
    },
    answer: withCampaign(async (deps, campaign) => ok(await proofFromAdmin(deps, campaign))),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/test',
    summary: 'Sends one [TEST] message to one address, as `pressroom send --test-to`; records nothing',
    body: z.strictObject({ to: z.string().max(320) }),
    responses: { 200: { description: 'Sent', schema: z.object({ to: z.string() }) }, ...refusals },
    answer: withCampaign(async (deps, campaign, body) =>
      ok(await testSendFromAdmin(deps, campaign, (body as { to: string }).to)),
    ),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/approve',
    summary: 'Records who approved the latest proof, as `pressroom campaign approve --by`',
    body: z.strictObject({ by: z.string().max(200) }),
    responses: {
      200: {
        description: 'Approved',
        schema: z.object({ by: z.string(), at: z.string(), version: z.string() }),
      },
      ...refusals,
    },
    answer: withCampaign(async (deps, campaign, body) =>
      ok(await approveFromAdmin(deps, campaign, (body as { by: string }).by)),
    ),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/schedule',
    summary:
      'Schedules the campaign as `pressroom schedule` does; refuses a time past, before the embargo, or unapproved',
    body: scheduleRequest,
    responses: {
      200: {
        description: 'Scheduled',
        schema: z.object({ sendAt: z.object({ utc: z.string(), zone: z.string(), written: z.string() }) }),
      },
      ...refusals,
    },
    answer: withCampaign(async (deps, campaign, body, now) =>
      ok(await scheduleFromAdmin(deps, campaign, body as z.infer<typeof scheduleRequest>, now)),
    ),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/send',
    summary:
      'Sends the campaign now in the background of this server, as `pressroom send` (ledgered: a second start sends nobody twice)',
    responses: {
      202: {
        description: 'Started (or already being sent)',
        schema: z.object({ outcome: z.enum(['started', 'already']) }),
      },
      ...refusals,
    },
    answer: withCampaign(async (deps, campaign) => ok(await sendFromAdmin(deps, campaign), 202)),
  },
  {
    method: 'POST',
    path: '/campaigns/{name}/resume',
    summary: 'Resumes a paused campaign in the background, as `pressroom campaign resume`',
    responses: {
      202: { description: 'Resumed', schema: z.object({ outcome: z.enum(['started', 'already']) }) },
      ...refusals,
    },
    answer: withCampaign(async (deps, campaign) => ok(await resumeFromAdmin(deps, campaign.name), 202)),
  },
  ...(['pause', 'stop'] as const).map(
    (action): Route => ({
      method: 'POST',
      path: `/campaigns/{name}/${action}`,
      summary:
        action === 'pause'
          ? 'Pauses a campaign being sent, as `pressroom campaign stop` (resume continues it)'
          : 'Stops a campaign: pauses one being sent, cancels one scheduled (`pressroom campaign cancel`)',
      responses: {
        200: {
          description: 'Paused or cancelled',
          schema: z.object({ state, reason: z.string().optional() }),
        },
        ...refusals,
      },
      answer: withCampaign(async (deps, campaign, _body, now) =>
        ok(await pauseFromAdmin(deps, campaign, action, now)),
      ),
    }),
  ),
  {
    method: 'GET',
    path: '/campaigns/{name}/progress',
    summary:
      'Where the sending stands: sent, pending, failed, rate, time left, state (the progress page polls it)',
    responses: {
      200: { description: 'The progress', schema: progress },
      404: refusals[404],
      503: refusals[503],
    },
    answer: withCampaign(async (deps, campaign) =>
      campaign.status
        ? json(200, await campaignProgress(deps, campaign.name))
        : json(409, { error: `campaign "${campaign.name}" has not started: there is no progress yet` }),
    ),
  },
  {
    method: 'GET',
    path: '/campaigns/{name}/report',
    summary: 'The report, as `pressroom campaign report --json` prints it',
    responses: {
      200: {
        description: 'The report',
        schema: z.object({
          name: z.string(),
          state,
          counts: z.record(z.string(), z.number()),
          deliveredBy: z.array(z.string()),
          rows: z.array(z.record(z.string(), z.unknown())),
        }),
      },
      404: refusals[404],
      409: { description: 'The campaign has not started', schema: error },
      503: refusals[503],
    },
    answer: withCampaign(async (deps, campaign) =>
      campaign.status
        ? json(200, await reportFromAdmin(deps, campaign.name))
        : json(409, { error: `campaign "${campaign.name}" has not started: there is nothing to report yet` }),
    ),
  },
];
