import { stringify } from 'yaml';
import { readManifest } from '../archive/manifest.ts';
import { readApproval } from '../campaigns/approval.ts';
import {
  audienceLists,
  type CampaignDefinition,
  type CampaignRecord,
  campaignNames,
  readCampaign,
} from '../campaigns/campaign.ts';
import { type CampaignDefaults, loadCampaignFile } from '../campaigns/campaign-file.ts';
import { resumableCampaign, resumeCampaign, stopCampaign } from '../campaigns/control.ts';
import type { Ledger } from '../campaigns/ledger.ts';
import { approveCampaign, makeProof } from '../campaigns/proof.ts';
import {
  type CampaignScheduler,
  type CampaignStarter,
  cancelCampaignRemotely,
  recordForDispatch,
  scheduleCampaignRemotely,
} from '../campaigns/remote.ts';
import { type CampaignReport, campaignReport } from '../campaigns/report.ts';
import { cancelCampaign, scheduleCampaign } from '../campaigns/schedule.ts';
import { type SendDeps, sendCampaign } from '../campaigns/send.ts';
import { checkSenderIdentity } from '../campaigns/sender-identity.ts';
import { type CampaignStatus, campaignStatus } from '../campaigns/status.ts';
import { isTimeZone, parseSendTime } from '../campaigns/time.ts';
import { audienceSize, listContacts } from '../contacts/audience.ts';
import { type ContactKeys, normalizeEmail } from '../contacts/model.ts';
import { InvalidInputError, PressroomError } from '../errors.ts';
import { readIssueManifest, readIssues } from '../newsletter/catalog.ts';
import { type SourceFiles, withSourceText } from '../publication/load.ts';
import { type Language, slugPattern } from '../publication/schema.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import { adminOperator, type Refusal, refusalOf } from './archive.ts';
import {
  adminSendRole,
  type CampaignRun,
  type CampaignRuns,
  leftByDeadAdminRun,
  type RunProgress,
} from './campaign-runs.ts';
import type { CampaignTemplates } from './campaigns-pages.ts';
import type { FieldProblem } from './releases.ts';

/**
 * The campaigns of the web admin, over the core functions the command line uses: campaign
 * files (the same YAML `pressroom send` reads, written new, never over one), proofs and
 * approval, test messages, scheduling, sends in the server's process (campaign-runs.ts),
 * progress, the report, pause, resume and stop. No HTTP here (campaigns-pages.ts,
 * campaigns-api.ts).
 */

/** A campaign file of the workspace. */
export interface CampaignSourceFile {
  /** The path the source files read it at. */
  path: string;
  /** Its name inside the workspace: `campaigns/etude-2021-presse.yaml`. */
  name: string;
}

/** The workspace's campaign files: listed, read inside the workspace, created without overwriting. */
export interface CampaignFiles {
  list(): Promise<CampaignSourceFile[]>;
  /** A new file `<name>` in the campaigns folder, whole or not at all; `exists` when the name is taken. */
  create(name: string, text: string): Promise<CampaignSourceFile | 'exists'>;
  files: SourceFiles;
  /** The folder new campaign files go in. */
  folder: string;
}

/** What the campaigns section works with, here or on the stack. */
interface CampaignSectionBase {
  files: CampaignFiles;
  /** What a campaign file may leave out (the workspace's sender, zone, press lists). */
  defaults: CampaignDefaults;
  /** The workspace's lists: name → title. */
  lists: Record<string, string>;
  /** The senders to choose from: the workspace's, then its organisations' (`"Name <address>"`). */
  senders(): Promise<string[]>;
  /** The public address proof links start with (PRESSROOM_PUBLIC_URL). */
  publicUrl: string;
  /** The zone times are shown in, and the schedule form's default. */
  timeZone: string;
  /** The pages' templates (templates/admin/campaigns-*.html.hbs). */
  templates: CampaignTemplates;
}

/** What the admin's campaigns work with in `pressroom serve` (bin/actions/serve.ts): sends in its process. */
export interface AdminCampaignDeps extends CampaignSectionBase {
  /** Sending as `pressroom send` does: the store, the configured mailer, keys, addresses. */
  send: SendDeps;
  runs: CampaignRuns;
}

/**
 * The stack's side of the campaigns (lambdas/handlers/admin-campaigns.ts), as the `--backend
 * aws` commands do it: the records in its bucket, a send handed to the dispatch function, a
 * schedule on EventBridge Scheduler, progress and the report from the ledger table.
 */
export interface StackCampaigns {
  store: ObjectStore;
  /** The keys of the stack's signing secret (proof links). */
  keys: ContactKeys;
  /** The ledger table; absent: the bucket's ledger. */
  ledger?: Ledger;
  /** Hands a campaign to dispatch (an asynchronous invocation). */
  starter: CampaignStarter;
  /** One-time schedules invoking dispatch, as `pressroom schedule --backend aws` puts them. */
  scheduler: CampaignScheduler;
  /** The SES identity the stack sends from: a campaign from another sender is refused. */
  senderIdentity: string;
  /** Why no test message is sent from here, and how to test instead. */
  testRefusal: string;
}

/** On the stack: nothing is sent in the admin's own process. */
export interface StackCampaignDeps extends CampaignSectionBase {
  stack: StackCampaigns;
  /** The language list titles are shown in. */
  lang: Language;
}

/** The campaigns section's deps: `pressroom serve`'s, or the stack's. */
export type CampaignSectionDeps = AdminCampaignDeps | StackCampaignDeps;

const onStack = (deps: CampaignSectionDeps): deps is StackCampaignDeps => 'stack' in deps;

/** Where the campaigns' records, keys and ledger are: the server's, or the stack's. */
export const storage = (
  deps: CampaignSectionDeps,
): Pick<SendDeps, 'store' | 'keys' | 'ledger' | 'holderAlive'> => (onStack(deps) ? deps.stack : deps.send);

/** Whether this process is sending the campaign (never on the stack: its functions send). */
const runningHere = (deps: CampaignSectionDeps, name: string) => !onStack(deps) && deps.runs.isRunning(name);

/** Refuses, before anything is written, a sender the stack may not send from. */
function checkStackSender(deps: CampaignSectionDeps, definition: CampaignDefinition): void {
  if (onStack(deps))
    checkSenderIdentity(
      deps.stack.senderIdentity,
      definition.name,
      definition.from.address,
      "the admin function's PRESSROOM_SENDER_IDENTITY, the stack's SenderIdentity output",
    );
}

export type { Refusal };

const refusal = (error: unknown) => refusalOf(error, 'the campaign has problems: fix them, then try again');

/** Runs `action`, turning what the core refuses into a refusal. */
async function refusing<T>(action: () => Promise<T>): Promise<T | Refusal> {
  try {
    return await action();
  } catch (error) {
    return refusal(error);
  }
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'refused' in value;
}

/** A campaign in the admin's list. */
export interface CampaignListItem {
  name: string;
  /** Its file in the workspace, when it has one. */
  file?: string;
  state: CampaignRecord['state'];
  publication?: string;
  newsletter?: string;
  lists: string[];
  sent: number;
  failed: number;
  remaining: number;
  sendAt?: { utc: string; zone: string };
  /** Problems of its file, when it does not load. */
  problems?: number;
}

/** The workspace's campaign files, by campaign name; files that do not load are kept apart. */
async function campaignFiles(deps: CampaignSectionDeps) {
  const byName = new Map<string, { file: CampaignSourceFile; definition: CampaignDefinition }>();
  const broken: { file: CampaignSourceFile; problems: number }[] = [];
  for (const file of await deps.files.list()) {
    try {
      const definition = await loadCampaignFile(file.path, deps.files.files, deps.defaults);
      if (!byName.has(definition.name)) byName.set(definition.name, { file, definition });
    } catch (error) {
      if (!(error instanceof PressroomError)) throw error;
      broken.push({ file, problems: error instanceof InvalidInputError ? error.problems.length : 1 });
    }
  }
  return { byName, broken };
}

async function recordOf(store: ObjectStore, name: string): Promise<CampaignRecord | undefined> {
  return readCampaign(store, name).catch((error: unknown) => {
    if (error instanceof PressroomError && error.name === 'CampaignNotFoundError') return undefined;
    throw error;
  });
}

/** Every campaign: the workspace's files and the campaigns the store knows, newest activity first. */
export async function listAdminCampaigns(deps: CampaignSectionDeps): Promise<CampaignListItem[]> {
  const store = storage(deps).store;
  const { byName, broken } = await campaignFiles(deps);
  const names = new Set([...byName.keys(), ...(await campaignNames(store))]);
  const items: (CampaignListItem & { updated: string })[] = [];
  for (const name of names) {
    const record = await recordOf(store, name);
    const definition = byName.get(name)?.definition ?? record?.definition;
    if (!definition) continue;
    const counts = record ? await campaignStatus(store, name, new Date(), storage(deps).ledger) : undefined;
    const at = record?.definition.sendAt;
    const file = byName.get(name)?.file.name;
    items.push({
      name,
      ...(file !== undefined && { file }),
      state: record?.state ?? 'draft',
      ...(definition.newsletter !== undefined
        ? { newsletter: definition.newsletter }
        : { publication: definition.publication }),
      lists: audienceLists(definition.audience),
      sent: counts?.sent ?? 0,
      failed: counts?.failed ?? 0,
      remaining: counts?.remaining ?? 0,
      ...(at && { sendAt: { utc: at.utc, zone: at.zone } }),
      updated: record?.updatedAt ?? '',
    });
  }
  items.sort((a, b) => b.updated.localeCompare(a.updated) || a.name.localeCompare(b.name));
  return [
    ...items.map(({ updated: _, ...item }) => item),
    ...broken.map(({ file, problems }) => ({
      name: file.name,
      file: file.name,
      state: 'draft' as const,
      lists: [],
      sent: 0,
      failed: 0,
      remaining: 0,
      problems,
    })),
  ];
}

/** One campaign: its definition (its file's, else its record's), where it stands, who approved it. */
export interface AdminCampaign {
  name: string;
  file?: string;
  /** The file's path, for the core functions that name it in messages. */
  source: string;
  definition: CampaignDefinition;
  state: CampaignRecord['state'];
  status?: CampaignStatus;
  /** How many the audience holds now (suppressed and do-not-contact left out), or why it cannot be counted. */
  audience: { count: number } | { error: string };
  /** The title and embargo of what it sends, from the archive; `missing` when it is not there. */
  content: { title?: string; embargo?: string; missing?: string };
  approval?: { by: string; at: string; version: string };
  running: boolean;
}

/** How many the audience holds now, or why it cannot be counted (a list nobody is on). */
export async function countAudience(
  deps: CampaignSectionDeps,
  audience: CampaignDefinition['audience'],
): Promise<{ count: number } | { error: string }> {
  try {
    return { count: await audienceSize(storage(deps).store, audience, Object.keys(deps.lists)) };
  } catch (error) {
    if (error instanceof PressroomError) return { error: error.message };
    throw error;
  }
}

async function contentOf(
  store: ObjectStore,
  definition: CampaignDefinition,
): Promise<AdminCampaign['content']> {
  try {
    if (definition.newsletter !== undefined) {
      const issue = await readIssueManifest(store, definition.newsletter);
      return { title: issue.summary.title };
    }
    const { summary } = await readManifest(store, definition.publication);
    return { title: summary.title, ...(summary.embargo && { embargo: summary.embargo }) };
  } catch (error) {
    if (error instanceof PressroomError) return { missing: error.message };
    throw error;
  }
}

/** One campaign by name; undefined when neither a file nor the store knows it. */
export async function findAdminCampaign(
  deps: CampaignSectionDeps,
  name: string,
): Promise<AdminCampaign | undefined> {
  if (!slugPattern.test(name)) return undefined;
  const store = storage(deps).store;
  const found = (await campaignFiles(deps)).byName.get(name);
  const record = await recordOf(store, name);
  const definition = found?.definition ?? record?.definition;
  if (!definition) return undefined;
  const approval = await readApproval(store, name);
  return {
    name,
    ...(found && { file: found.file.name }),
    source: found?.file.path ?? record?.source ?? name,
    definition,
    state: record?.state ?? 'draft',
    ...(record && { status: await campaignStatus(store, name, new Date(), storage(deps).ledger) }),
    audience: await countAudience(deps, definition.audience),
    content: await contentOf(store, definition),
    ...(approval && { approval: { by: approval.by, at: approval.at, version: approval.hash } }),
    running: runningHere(deps, name),
  };
}

/** What the compose form (or the API) gives: what to send, to whom, from whom. */
export interface ComposeInput {
  name?: string;
  /** `release:<slug>` or `newsletter:<id>`. */
  content: string;
  lists: string[];
  tags?: string[];
  tagsMode?: 'any' | 'all';
  /** Empty: the release's (or issue's) title, as the command line does. */
  subject?: string;
  /** `"Name <address>"`; empty: the workspace's sender. */
  from?: string;
  approval?: boolean;
}

/** The longest subject the admin writes (a mail client shows far less). */
export const maxSubjectLength = 300;

/** What can be sent: the workspace's published releases (not withdrawn) and newsletter issues. */
export async function sendableContent(
  store: ObjectStore,
  releases: { slug: string; title?: string; archive?: { state: string } }[],
): Promise<{ value: string; label: string; kind: 'release' | 'newsletter' }[]> {
  const published = releases
    .filter((r) => r.archive && r.archive.state !== 'withdrawn')
    .map((r) => ({ value: `release:${r.slug}`, label: r.title ?? r.slug, kind: 'release' as const }));
  const issues = (await readIssues(store)).map((i) => ({
    value: `newsletter:${i.id}`,
    label: i.title,
    kind: 'newsletter' as const,
  }));
  return [...published, ...issues];
}

/** A list compose offers: its name, its title (pressroom.yaml's), how many contacts are on it. */
export interface ComposeList {
  name: string;
  title?: string;
  count: number;
}

/**
 * The lists compose offers: those pressroom.yaml declares (even empty), then those the
 * contacts are on (an import takes any list name), with how many contacts each holds.
 */
export async function composeLists(deps: CampaignSectionDeps): Promise<ComposeList[]> {
  const counts = new Map<string, number>(Object.keys(deps.lists).map((name) => [name, 0]));
  for await (const { contact } of listContacts(storage(deps).store))
    for (const list of Object.keys(contact.lists)) counts.set(list, (counts.get(list) ?? 0) + 1);
  const declared = Object.keys(deps.lists);
  const found = [...counts.keys()].filter((name) => !(name in deps.lists)).sort();
  return [...declared, ...found].map((name) => ({
    name,
    ...(deps.lists[name] !== undefined && { title: deps.lists[name] }),
    count: counts.get(name) ?? 0,
  }));
}

/** The campaign file's text for a composed campaign, as people write them (docs/sending.md). */
export function campaignFileText(input: ComposeInput, name: string, now: Date): string {
  const [kind, id = ''] = input.content.split(/:(.*)/s);
  const lists = [...new Set(input.lists)];
  const tags = (input.tags ?? []).filter((t) => t !== '');
  const data = {
    name,
    ...(kind === 'newsletter' ? { newsletter: id } : { publication: id }),
    audience: {
      ...(lists.length === 1 ? { list: lists[0] } : { lists }),
      ...(tags.length > 0 && { tags }),
      ...(tags.length > 0 && input.tagsMode === 'all' && { tagsMode: 'all' }),
    },
    ...(input.from && { from: input.from }),
    ...(input.subject && { subject: input.subject }),
    ...(input.approval && { approval: 'required' }),
  };
  return `# Written by the web admin on ${now.toISOString().slice(0, 10)}; \`pressroom send\` reads it as it is.\n${stringify(data, { lineWidth: 0 })}`;
}

/** A campaign's default name: what it sends and the day, e.g. `etude-2021-2026-12-07`. */
function defaultName(input: ComposeInput, now: Date): string {
  const id = input.content.split(':')[1] ?? 'campaign';
  const day = now.toISOString().slice(0, 10);
  return `${id.slice(0, 120 - day.length - 1).replace(/-+$/, '')}-${day}`;
}

/**
 * Writes a new campaign file, `campaigns/<name>.yaml`, from what the form gives: checked as
 * `pressroom send` checks it, what it sends found in the archive, its audience not empty.
 * Never replaces a file: a name taken is a conflict. Nothing is written when refused.
 */
export async function composeCampaign(
  deps: CampaignSectionDeps,
  input: ComposeInput,
  now: Date,
): Promise<{ created: AdminCampaign } | { conflict: string } | { problems: FieldProblem[] }> {
  const name = input.name?.trim() || defaultName(input, now);
  const problems: FieldProblem[] = [];
  if (!/^(release|newsletter):[a-z0-9-]+$/.test(input.content))
    problems.push({
      field: 'content',
      message: 'choose what to send: a published release or a newsletter issue',
      value: input.content,
    });
  if ((input.subject?.length ?? 0) > maxSubjectLength)
    problems.push({ field: 'subject', message: `is longer than ${maxSubjectLength} characters: shorten it` });
  // A line break in a subject would be a header of its own.
  if (/[\p{Cc}\u2028\u2029]/u.test(input.subject ?? ''))
    problems.push({
      field: 'subject',
      message:
        'holds a line break or another control character (CR, LF, tab…): write the subject on one line',
    });
  if (input.from && !(await deps.senders()).includes(input.from))
    problems.push({
      field: 'from',
      message: `"${input.from.slice(0, 200)}" is not one of the senders offered (the workspace's sender, its organisations' addresses): choose one of them`,
    });
  if (input.lists.length === 0)
    problems.push({
      field: 'lists',
      message:
        'choose at least one list the campaign goes to: the lists contacts are on (import contacts into a list) and those pressroom.yaml declares',
    });
  if (problems.length > 0) return { problems };
  const fileName = `${name}.yaml`;
  const text = campaignFileText(input, name, now);
  const path = `${deps.files.folder}/${fileName}`;
  let definition: CampaignDefinition;
  try {
    definition = await loadCampaignFile(path, withSourceText(deps.files.files, path, text), deps.defaults);
  } catch (error) {
    const refused = refusal(error);
    return { problems: refused.problems ?? [{ field: '', message: refused.refused }] };
  }
  const content = await contentOf(storage(deps).store, definition);
  if (content.missing)
    return {
      problems: [
        {
          field: 'content',
          message: `${content.missing}. Publish it first (Releases), or choose another`,
          value: input.content,
        },
      ],
    };
  const audience = await countAudience(deps, definition.audience);
  if ('error' in audience) return { problems: [{ field: 'lists', message: audience.error }] };
  if (audience.count === 0)
    return {
      problems: [
        {
          field: 'lists',
          message:
            'nobody is in this audience (the lists and tags chosen match no contact who may be mailed): choose other lists or fewer tags, or import contacts first',
        },
      ],
    };
  if ((await findAdminCampaign(deps, name)) !== undefined)
    return { conflict: `a campaign named "${name}" exists already: give this one another name` };
  let created: Awaited<ReturnType<CampaignFiles['create']>>;
  try {
    created = await deps.files.create(fileName, text);
  } catch (error) {
    if (!(error instanceof PressroomError)) throw error;
    return { problems: [{ field: '', message: error.message }] };
  }
  if (created === 'exists')
    return {
      // The folder's last name: campaigns/ in a workspace, campaign-files/ in the stack's bucket.
      conflict: `the file ${deps.files.folder.split(/[\\/]/).filter(Boolean).pop() ?? 'campaigns'}/${fileName} exists already: give the campaign another name`,
    };
  const found = await findAdminCampaign(deps, name);
  if (!found) throw new Error(`campaign ${name} was written but cannot be read back`);
  return { created: found };
}

/** A proof made: the link to give the approvers, until when, which version. */
export interface AdminProof {
  url: string;
  expiresAt: string;
  version: string;
  subject: string;
  approvalRequired: boolean;
}

/** Makes the campaign's proof as `pressroom proof` does, and its link (valid 7 days). */
export async function proofFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
  validSeconds?: number,
): Promise<AdminProof | Refusal> {
  return refusing(async () => {
    const made = await makeProof(
      campaign.definition,
      { store: storage(deps).store, keys: storage(deps).keys },
      { createdBy: adminOperator, ...(validSeconds !== undefined && { validSeconds }) },
    );
    return {
      url: `${deps.publicUrl.replace(/\/+$/, '')}/proof/${made.token}`,
      expiresAt: made.expiresAt.toISOString(),
      version: made.record.hash,
      subject: made.record.subject,
      approvalRequired: made.record.approvalRequired,
    };
  });
}

/** Records who approved the latest proof, as `pressroom campaign approve --by` does. */
export async function approveFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
  by: string,
): Promise<{ by: string; at: string; version: string } | Refusal> {
  return refusing(async () => {
    const { approval } = await approveCampaign(
      campaign.name,
      by,
      { store: storage(deps).store },
      { recordedBy: adminOperator },
    );
    return { by: approval.by, at: approval.at, version: approval.hash };
  });
}

/** One [TEST] message to one address, as `pressroom send --test-to` sends it; nothing recorded. */
export async function testSendFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
  address: string,
): Promise<{ to: string } | Refusal> {
  const to = normalizeEmail(address.trim());
  if (!to)
    return {
      refused: `"${address.slice(0, 200)}" is not an email address: give the one address the test goes to`,
    };
  if (onStack(deps)) return { refused: deps.stack.testRefusal };
  const send = deps.send;
  return refusing(async () => {
    await sendCampaign(campaign.definition, send, { testTo: [to] });
    return { to };
  });
}

/** The schedule form's fields: a day, a time and an IANA zone. */
export interface ScheduleInput {
  date: string;
  time: string;
  zone: string;
}

/**
 * Schedules the campaign as `pressroom schedule` does (its record `scheduled`, sendAt in UTC
 * with the zone kept): refused when the time is past, before the release's embargo, or
 * unapproved when approval is required. The campaign file is not changed.
 */
export async function scheduleFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
  input: ScheduleInput,
  now: Date,
): Promise<{ sendAt: { utc: string; zone: string; written: string } } | Refusal> {
  const problems: FieldProblem[] = [];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.date))
    problems.push({ field: 'date', message: 'give the day as YYYY-MM-DD', value: input.date.slice(0, 40) });
  if (!/^\d{2}:\d{2}$/.test(input.time))
    problems.push({ field: 'time', message: 'give the time as HH:MM', value: input.time.slice(0, 40) });
  if (!isTimeZone(input.zone))
    problems.push({
      field: 'zone',
      message: 'choose a time zone of the list (an IANA name, e.g. Europe/Paris)',
      value: input.zone.slice(0, 80),
    });
  if (problems.length > 0) return { refused: 'the send time is not complete', problems };
  const sendAt = parseSendTime(`${input.date}T${input.time} ${input.zone}`);
  if ('error' in sendAt)
    return { refused: sendAt.error, problems: [{ field: 'date', message: sendAt.error }] };
  const definition = { ...campaign.definition, sendAt };
  const source = campaign.file ?? campaign.source;
  const schedule = { store: storage(deps).store, clock: () => now, timeZone: deps.timeZone };
  return refusing(async () => {
    checkStackSender(deps, definition);
    // On the stack as `pressroom schedule --backend aws`: the record, then a one-time schedule invoking dispatch.
    const saved = onStack(deps)
      ? (await scheduleCampaignRemotely(definition, { ...schedule, scheduler: deps.stack.scheduler }, source))
          .record
      : await scheduleCampaign(definition, schedule, source);
    const at = saved.definition.sendAt ?? sendAt;
    return { sendAt: { utc: at.utc, zone: at.zone, written: at.written } };
  });
}

/**
 * Sends the campaign now, in this process in the background, as `pressroom send` does (the
 * same lease and ledger: a second start sends nobody twice). What refuses it before anything
 * is sent (the embargo, a sendAt ahead, an approval missing, another run) comes back here.
 */
export async function sendFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
): Promise<{ outcome: 'started' | 'already' } | Refusal> {
  if (campaign.state === 'sending' || runningHere(deps, campaign.name)) return { outcome: 'already' };
  if (campaign.state !== 'draft')
    return {
      refused: `campaign "${campaign.name}" is ${campaign.state}: ${
        campaign.state === 'paused'
          ? 'resume it instead'
          : campaign.state === 'scheduled'
            ? 'it is sent at its time (stop it to cancel the schedule)'
            : 'it cannot be sent again; compose a new campaign'
      }`,
    };
  if ('error' in campaign.audience) return { refused: campaign.audience.error };
  if (campaign.audience.count === 0)
    return {
      refused: `nobody is in the audience of "${campaign.name}" now (its lists and tags match no contact who may be mailed): nothing was sent. Import contacts, or compose a campaign for another audience`,
    };
  if (onStack(deps)) {
    const stack = deps.stack;
    // As `pressroom send --backend aws`: the checks and the record here, the sending by dispatch.
    return refusing(async () => {
      checkStackSender(deps, campaign.definition);
      await recordForDispatch(campaign.definition, stack, campaign.file ?? campaign.source);
      await stack.starter.start(campaign.name);
      return { outcome: 'started' as const };
    });
  }
  const local = deps;
  return refusing(async () => ({
    outcome: await local.runs.start(
      campaign.name,
      remembered(local, campaign.name, (options) => sendCampaign(campaign.definition, local.send, options)),
    ),
  }));
}

/** Resumes a paused (or interrupted) campaign in this process, as `pressroom campaign resume` does. */
export async function resumeFromAdmin(
  deps: CampaignSectionDeps,
  name: string,
): Promise<{ outcome: 'started' | 'already' } | Refusal> {
  if (onStack(deps)) {
    const stack = deps.stack;
    // As `pressroom campaign resume --backend aws`: dispatch enqueues those without an outcome.
    return refusing(async () => {
      await resumableCampaign(name, {
        store: stack.store,
        backendFlag: ' --backend aws',
        timeZone: deps.timeZone,
      });
      await stack.starter.start(name);
      return { outcome: 'started' as const };
    });
  }
  const local = deps;
  if (local.runs.isRunning(name)) return { outcome: 'already' };
  return refusing(async () => ({
    outcome: await local.runs.start(
      name,
      remembered(local, name, (options) => resumeCampaign(name, local.send, options)),
    ),
  }));
}

/**
 * Pauses a campaign being sent, as `pressroom campaign stop` does (the run stops before its
 * next recipient; resume continues). `stop` also cancels a scheduled campaign, as
 * `pressroom campaign cancel` does.
 */
export async function pauseFromAdmin(
  deps: CampaignSectionDeps,
  campaign: AdminCampaign,
  action: 'pause' | 'stop',
  now: Date,
): Promise<{ state: CampaignRecord['state']; reason?: string } | Refusal> {
  return refusing(async () => {
    if (action === 'stop' && campaign.state === 'scheduled') {
      // On the stack as `pressroom campaign cancel --backend aws`: its schedule deleted too.
      const { record } = onStack(deps)
        ? await cancelCampaignRemotely(campaign.name, deps.stack, now)
        : { record: await cancelCampaign(storage(deps).store, campaign.name, now) };
      return { state: record.state };
    }
    const result = await stopCampaign(campaign.name, {
      store: storage(deps).store,
      by: adminOperator,
      clock: () => now,
      timeZone: deps.timeZone,
      ...(onStack(deps)
        ? { backendFlag: ' --backend aws' }
        : deps.send.holderAlive && { holderAlive: deps.send.holderAlive }),
    });
    return {
      state: result.record.state,
      ...(result.record.pausedReason && { reason: result.record.pausedReason }),
    };
  });
}

/** The live progress: the ledger's counts, and this process's run's rate and time left. */
export interface CampaignProgress {
  name: string;
  state: CampaignRecord['state'];
  /** `sent`: everyone in the audience has an outcome. */
  finished: boolean;
  audience: number;
  sent: number;
  failed: number;
  skipped: number;
  pending: number;
  /** Messages a second of this process's run, since it started; absent when no run of this process. */
  rate?: number;
  /** Seconds left at that rate, while sending. */
  etaSeconds?: number;
  pausedReason?: string;
  running: boolean;
}

export async function campaignProgress(deps: CampaignSectionDeps, name: string): Promise<CampaignProgress> {
  const status = await campaignStatus(storage(deps).store, name, new Date(), storage(deps).ledger);
  const run: RunProgress | undefined = onStack(deps) ? undefined : deps.runs.progressOf(name);
  const running = runningHere(deps, name);
  const rate = run ? Math.round(run.rate * 10) / 10 : undefined;
  return {
    name,
    state: status.state,
    finished: status.state === 'sent',
    audience: status.audience,
    sent: status.sent,
    failed: status.failed,
    skipped: status.skipped,
    pending: status.remaining,
    ...(rate !== undefined && { rate }),
    ...(running && rate && { etaSeconds: Math.ceil(status.remaining / rate) }),
    ...(status.pausedReason && { pausedReason: status.pausedReason }),
    running,
  };
}

/** The report, as `pressroom campaign report` makes it. */
export async function reportFromAdmin(deps: CampaignSectionDeps, name: string): Promise<CampaignReport> {
  return campaignReport(storage(deps).store, name, storage(deps).ledger);
}

/**
 * The campaigns an admin run left unfinished when the server stopped (Ctrl-C, SIGTERM: the
 * run ends after its sends in flight and drops its lease), to resume at the next start. A
 * server that died leaves its lease instead (campaign-runs.ts's leftByDeadAdminRun).
 */
const interruptedKey = 'campaigns/admin-interrupted.json';

async function rememberInterrupted(store: ObjectStore, name: string, interrupted: boolean): Promise<void> {
  await updateJson<{ names: string[] }>(
    store,
    interruptedKey,
    () => ({ names: [] }),
    (current) => {
      const known = current.names.includes(name);
      if (known === interrupted) return current;
      return { names: interrupted ? [...current.names, name] : current.names.filter((n) => n !== name) };
    },
  );
}

/** `run`, then what it left: remembered when it stopped before the end, forgotten otherwise. */
function remembered(deps: AdminCampaignDeps, name: string, run: CampaignRun): CampaignRun {
  return async (options) => {
    const report = await run(options);
    await rememberInterrupted(storage(deps).store, name, report.interrupted && report.state === 'sending');
    return report;
  };
}

/**
 * When the server starts: resumes, in the background, the campaigns an admin send left
 * `sending` (the server stopped, or died, while sending). The ledger sends only to those
 * without an outcome. Campaigns a `pressroom send` left are not the admin's to resume.
 */
export async function resumeInterruptedSends(deps: AdminCampaignDeps, now: Date): Promise<string[]> {
  const store = storage(deps).store;
  const stopped = new Set((await getJson<{ names: string[] }>(store, interruptedKey))?.value.names ?? []);
  const resumed: string[] = [];
  for (const name of new Set([...stopped, ...(await campaignNames(store))])) {
    const record = await recordOf(store, name);
    const left =
      record !== undefined &&
      (leftByDeadAdminRun(record, now, deps.send.holderAlive) ||
        (stopped.has(name) && record.state === 'sending' && !record.lease));
    if (!left) {
      if (stopped.has(name)) await rememberInterrupted(store, name, false);
      continue;
    }
    const started = await resumeFromAdmin(deps, name);
    if (!isRefusal(started)) resumed.push(name);
  }
  return resumed;
}

export { adminSendRole };
