import { describeAudience } from '../campaigns/proof.ts';
import { showTime } from '../campaigns/time.ts';
import { type PublicRequest, type PublicResponse, pathParameter } from '../public/http.ts';
import {
  type AdminCampaign,
  approveFromAdmin,
  type CampaignSectionDeps,
  type ComposeInput,
  campaignProgress,
  storage as campaignStorage,
  composeCampaign,
  composeLists,
  countAudience,
  findAdminCampaign,
  isRefusal,
  listAdminCampaigns,
  pauseFromAdmin,
  proofFromAdmin,
  type Refusal,
  reportFromAdmin,
  resumeFromAdmin,
  scheduleFromAdmin,
  sendableContent,
  sendFromAdmin,
  testSendFromAdmin,
} from './campaigns.ts';
import { adminPrefix, formTooLarge, html, notAllowed, postedForm, redirect } from './http.ts';
import type { AdminPages } from './pages.ts';
import { type AdminReleaseDeps, type FieldProblem, listReleases } from './releases.ts';

/**
 * The pages of the admin's campaigns, under /admin/campaigns: the list, the compose form,
 * a campaign (proof, test, approval, schedule, send, pause, resume, stop), the confirmations,
 * the live progress and the report. Each change is a POST the router checked for CSRF; the
 * work is campaigns.ts's, with the command line's core functions.
 */

/** The campaigns' templates (`templates/admin/campaigns-*.html.hbs`), read by an adapter. */
export interface CampaignTemplates {
  list: string;
  compose: string;
  campaign: string;
  confirm: string;
  progress: string;
  report: string;
}

type Page = keyof CampaignTemplates;

/** What a page of the campaigns answers with. */
interface CampaignPageContext {
  releases: AdminReleaseDeps;
  /** The admin's pages in the request's language (pages.ts): their layout and setup. */
  pages: AdminPages;
  csrf: string;
}

/** Every IANA zone this runtime knows, for the schedule form; the workspace's first (it may be UTC, which the list leaves out). */
const zones = (first: string): string[] => [
  ...new Set([first, 'UTC', ...Intl.supportedValuesOf('timeZone')]),
];

/** In an hour, in `zone`, as the date and time fields want them: ["2026-12-07", "09:30"]. */
function inAnHour(zone: string): [string, string] {
  const [date = '', time = ''] = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(Date.now() + 3600_000))
    .split(' ');
  return [date, time];
}

/** Answers a request under /admin/campaigns (signed in; a change's CSRF checked). */
export async function answerCampaignsPage(
  request: PublicRequest,
  method: string,
  ctx: CampaignPageContext,
): Promise<PublicResponse> {
  const t = ctx.pages.t;
  const deps = ctx.releases.campaigns;
  if (!deps) return html(503, `<!DOCTYPE html><title>503</title><p>${t.campaignsUnavailable ?? ''}</p>`);
  const zone = deps.timeZone;
  const when = (utc: string | undefined) => (utc ? showTime(utc, zone) : '');
  const stateLabel = (state: string) =>
    t[`campaignsState${state.charAt(0).toUpperCase()}${state.slice(1)}`] ?? state;
  const render = (page: Page, status: number, view: Record<string, unknown>) =>
    html(status, ctx.pages.render(deps.templates[page], { csrf: ctx.csrf, ...view }));
  const path = request.path.slice(`${adminPrefix}/campaigns`.length);
  const read = method === 'GET' || method === 'HEAD';

  if (path === '' || path === '/') {
    if (!read) return notAllowed('GET, HEAD');
    const campaigns = (await listAdminCampaigns(deps)).map((c) => ({
      ...c,
      stateLabel: stateLabel(c.state),
      sendAtShown: c.sendAt ? showTime(c.sendAt.utc, c.sendAt.zone) : '',
    }));
    return render('list', 200, { campaigns });
  }
  if (path === '/new') return compose(request, method, ctx, deps, render);

  const match = /^\/([^/]+)(?:\/(proof|test|approve|schedule|send|resume|pause|stop|progress|report))?$/.exec(
    path,
  );
  const name = match?.[1] === undefined ? undefined : pathParameter(match[1], '');
  const campaign = name === undefined ? undefined : await findAdminCampaign(deps, name);
  if (!match || !campaign) return render('list', 404, { notFound: name ?? path, campaigns: [] });
  const action = match[2];
  const now = ctx.releases.now;

  /** The campaign's page, with what an action did (or why it was refused). */
  const show = async (status: number, extra: Record<string, unknown> = {}) => {
    const fresh = (await findAdminCampaign(deps, campaign.name)) ?? campaign;
    return render('campaign', status, { ...campaignView(fresh, deps, t, when, stateLabel), ...extra });
  };
  const refusedStatus = (r: Refusal) => (r.problems ? 422 : 409);

  if (action === undefined) return read ? show(200) : notAllowed('GET, HEAD');
  if (action === 'progress') {
    if (!read) return notAllowed('GET, HEAD');
    if (!campaign.status) return show(409, { refused: t.campaignsNotStarted });
    const progress = await campaignProgress(deps, campaign.name);
    return render('progress', 200, {
      campaign: { name: campaign.name },
      progress: { ...progress, stateLabel: stateLabel(progress.finished ? 'finished' : progress.state) },
      labels: JSON.stringify(
        Object.fromEntries(
          ['draft', 'scheduled', 'sending', 'paused', 'cancelled', 'finished'].map((s) => [s, stateLabel(s)]),
        ),
      ),
    });
  }
  if (action === 'report') {
    if (!read) return notAllowed('GET, HEAD');
    if (!campaign.status) return show(409, { refused: t.campaignsNotStarted });
    const report = await reportFromAdmin(deps, campaign.name);
    return render('report', 200, {
      campaign: { name: campaign.name },
      report: {
        ...report,
        stateLabel: stateLabel(report.state),
        rows: report.rows.map((r) => ({
          ...r,
          sentShown: when(r.sentAt),
          deliveredShown: when(r.delivered?.at),
        })),
      },
      zone,
    });
  }
  if ((action === 'send' || action === 'stop') && read)
    return render('confirm', 200, {
      campaign: campaignView(campaign, deps, t, when, stateLabel).campaign,
      [action]: true,
      action,
    });
  if (method !== 'POST')
    return notAllowed(action === 'send' || action === 'stop' ? 'GET, HEAD, POST' : 'POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();

  switch (action) {
    case 'proof': {
      const proof = await proofFromAdmin(deps, campaign);
      return isRefusal(proof)
        ? show(refusedStatus(proof), proof)
        : show(200, { proof: { ...proof, expiresShown: when(proof.expiresAt) } });
    }
    case 'test': {
      const test = await testSendFromAdmin(deps, campaign, form.get('to') ?? '');
      return isRefusal(test)
        ? show(422, { ...test, testTo: (form.get('to') ?? '').slice(0, 320) })
        : show(200, { notice: `${t.campaignsTestSent} ${test.to}` });
    }
    case 'approve': {
      const approved = await approveFromAdmin(deps, campaign, form.get('by') ?? '');
      return isRefusal(approved)
        ? show(refusedStatus(approved), approved)
        : show(200, { notice: `${t.campaignsApprovedBy} ${approved.by}` });
    }
    case 'schedule': {
      const input = {
        date: form.get('date') ?? '',
        time: form.get('time') ?? '',
        zone: form.get('zone') ?? '',
      };
      const scheduled = await scheduleFromAdmin(deps, campaign, input, now);
      return isRefusal(scheduled)
        ? show(refusedStatus(scheduled), { ...scheduled, schedule: input })
        : show(200, {
            notice: `${t.campaignsScheduledFor} ${showTime(scheduled.sendAt.utc, scheduled.sendAt.zone)}`,
          });
    }
    case 'send':
    case 'resume': {
      const started =
        action === 'send' ? await sendFromAdmin(deps, campaign) : await resumeFromAdmin(deps, campaign.name);
      if (isRefusal(started)) return show(refusedStatus(started), started);
      return redirect(`${adminPrefix}/campaigns/${encodeURIComponent(campaign.name)}/progress`);
    }
    case 'pause':
    case 'stop': {
      const paused = await pauseFromAdmin(deps, campaign, action, now);
      return isRefusal(paused)
        ? show(refusedStatus(paused), paused)
        : show(200, { notice: `${stateLabel(paused.state)}${paused.reason ? `: ${paused.reason}` : ''}` });
    }
  }
  return notAllowed('GET, HEAD');
}

/** A campaign as its page shows it. */
function campaignView(
  campaign: AdminCampaign,
  deps: CampaignSectionDeps,
  t: Record<string, string>,
  when: (utc: string | undefined) => string,
  stateLabel: (state: string) => string,
) {
  const d = campaign.definition;
  const s = campaign.status;
  const sendAt = s?.sendAt ?? d.sendAt;
  const [date, time] = inAnHour(deps.timeZone);
  return {
    campaign: {
      ...campaign,
      stateLabel: stateLabel(campaign.state),
      what: d.newsletter !== undefined ? `${t.campaignsNewsletter} ${d.newsletter}` : d.publication,
      audienceShown: describeAudience(d.audience, {
        list: t.campaignsList ?? 'list',
        lists: t.campaignsLists ?? 'lists',
        tags: t.campaignsTags ?? 'tags',
        any: t.campaignsTagsAny ?? 'any',
        all: t.campaignsTagsAll ?? 'all',
      }),
      count: 'count' in campaign.audience ? campaign.audience.count : undefined,
      countError: 'error' in campaign.audience ? campaign.audience.error : undefined,
      subject: d.subject ?? campaign.content.title,
      subjectIsDefault: d.subject === undefined,
      from: `${d.from.name} <${d.from.address}>`,
      // In its own zone, as `pressroom campaign list` shows it.
      sendAtShown: sendAt ? showTime(sendAt.utc, sendAt.zone) : undefined,
      embargoShown: campaign.content.embargo ? when(campaign.content.embargo) : undefined,
      approvalRequired: d.approval === 'required',
      approvedShown: campaign.approval
        ? `${campaign.approval.by}, ${when(campaign.approval.at)} (${campaign.approval.version.slice(0, 12)})`
        : undefined,
      canSend: campaign.state === 'draft',
      canSchedule:
        campaign.state === 'draft' || campaign.state === 'scheduled' || campaign.state === 'cancelled',
      canPause: campaign.state === 'sending',
      canResume:
        campaign.state === 'paused' || (campaign.state === 'sending' && !campaign.running && !s?.lease),
      canStop: campaign.state === 'sending' || campaign.state === 'scheduled',
      started: s !== undefined,
    },
    zones: zones(deps.timeZone),
    schedule: { date, time, zone: deps.timeZone },
  };
}

/** The compose form (GET), and its POST: a new campaign file, then the campaign's page. */
async function compose(
  request: PublicRequest,
  method: string,
  ctx: CampaignPageContext,
  deps: CampaignSectionDeps,
  render: (page: Page, status: number, view: Record<string, unknown>) => PublicResponse,
): Promise<PublicResponse> {
  const contents = await sendableContent(campaignStorage(deps).store, await listReleases(ctx.releases));
  const senders = await deps.senders();
  const lists = await composeLists(deps);
  const view = (input: Partial<ComposeInput>, extra: Record<string, unknown> = {}) => ({
    input,
    contents: contents.map((c) => ({ ...c, selected: c.value === input.content })),
    lists: lists.map((list) => ({ ...list, checked: input.lists?.includes(list.name) ?? false })),
    senders: senders.map((s) => ({ value: s, selected: s === input.from })),
    tagsText: (input.tags ?? []).join(', '),
    ...extra,
  });
  if (method === 'GET' || method === 'HEAD') {
    // From a release's or an issue's page: what it names chosen, or why it cannot be yet.
    const { newsletter, release } = request.query ?? {};
    const wanted = newsletter ? `newsletter:${newsletter}` : release ? `release:${release}` : undefined;
    if (wanted === undefined || contents.some((c) => c.value === wanted))
      return render('compose', 200, view(wanted === undefined ? {} : { content: wanted }));
    return render('compose', 200, view({}, { errors: { content: [ctx.pages.t.campaignsNotSendable] } }));
  }
  if (method !== 'POST') return notAllowed('GET, HEAD, POST');
  const form = (await postedForm(request))?.fields;
  if (!form) return formTooLarge();
  const input: ComposeInput = {
    name: (form.get('name') ?? '').trim(),
    content: form.get('content') ?? '',
    lists: form.getAll('lists'),
    tags: (form.get('tags') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    tagsMode: form.get('tagsMode') === 'all' ? 'all' : 'any',
    subject: (form.get('subject') ?? '').trim(),
    from: form.get('from') ?? '',
    approval: form.get('approval') === 'required',
  };
  if (input.name === 'new')
    return render(
      'compose',
      422,
      view(input, { problems: [{ field: 'name', message: '"new" is reserved: choose another name' }] }),
    );
  // The Count button: how many the audience holds, before anything is written.
  if (form.get('count') !== null) {
    const count = await countAudience(deps, {
      lists: input.lists,
      ...(input.tags?.length && { tags: input.tags }),
      tagsMode: input.tagsMode ?? 'any',
    });
    return render('compose', 200, view(input, { counted: count }));
  }
  const result = await composeCampaign(deps, input, ctx.releases.now);
  if ('created' in result)
    return redirect(`${adminPrefix}/campaigns/${encodeURIComponent(result.created.name)}?composed=1`);
  if ('conflict' in result) return render('compose', 409, view(input, { conflict: result.conflict }));
  return render('compose', 422, view(input, problemsByField(ctx.pages.translated(result.problems))));
}

/** Problems beside their fields (content, lists, subject, name), the others above the form. */
function problemsByField(problems: FieldProblem[]) {
  const fieldOf = (p: FieldProblem) => {
    const head = p.field.split(/[.[]/)[0] ?? '';
    if (head === 'publication' || head === 'newsletter') return 'content';
    if (head === 'audience') return 'lists';
    return head;
  };
  const beside: Record<string, string[]> = {};
  const others: FieldProblem[] = [];
  for (const p of problems) {
    const field = fieldOf(p);
    if (['content', 'lists', 'subject', 'name', 'from', 'tags'].includes(field))
      beside[field] = [...(beside[field] ?? []), p.message];
    else others.push(p);
  }
  return { problems: others, errors: beside };
}
