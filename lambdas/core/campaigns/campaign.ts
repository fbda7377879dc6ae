import * as z from 'zod';
import type { AudienceFilter } from '../contacts/audience.ts';
import { listName } from '../contacts/model.ts';
import { languageAdvice, languageTag } from '../contacts/profile.ts';
import { PressroomError } from '../errors.ts';
import { email, slug } from '../publication/schema.ts';
import { getJson, type ObjectStore, updateJson } from '../store/object-store.ts';
import type { CampaignLease } from './lease.ts';
import type { PacingSettings, SendingPlan } from './quota.ts';
import type { SendTime } from './time.ts';
import type { CampaignTracking } from './tracking.ts';

/**
 * The campaign file: what to send (a published release or newsletter issue), to whom (a
 * list and tags), from whom, and when. A user-facing contract, documented in the README.
 */
const text = z.string().trim().min(1, 'must not be empty');

/** The lists of an audience, in the campaign's order. */
export function audienceLists(filter: Pick<AudienceFilter, 'list' | 'lists'>): string[] {
  return filter.lists ?? (filter.list !== undefined ? [filter.list] : []);
}

/** A language an audience selects, as a BCP 47 tag from the known list (`fr`, `fr-BE`). */
const languageRange = z.string().transform((value, ctx) => {
  const tag = languageTag(value);
  if (tag) return tag;
  ctx.addIssue({ code: 'custom', message: `not a language pressroom knows: ${languageAdvice}` });
  return z.NEVER;
});

/** A sender: `"Display Name <address>"` or `{ name, address }`. */
export const sender = z.union([
  z
    .string()
    .regex(
      /^[^<>]*<[^<>@\s]+@[^<>\s]+>$/,
      'must be "Display Name <address@example.org>" or { name, address }',
    )
    .transform((value) => {
      const at = value.lastIndexOf('<');
      return {
        name: value.slice(0, at).trim().replace(/^"|"$/g, ''),
        address: value.slice(at + 1, -1).trim(),
      };
    })
    .pipe(z.object({ name: z.string(), address: email })),
  z.strictObject({ name: text, address: email }),
]);

export const campaignFileSchema = z
  .strictObject({
    name: slug.describe('The campaign id, e.g. "etude-2021-presse"'),
    publication: slug.optional().describe('Slug of a published release (pressroom archive list)'),
    newsletter: slug.optional().describe('Id of a published newsletter issue, instead of a publication'),
    audience: z.strictObject({
      list: listName.optional().describe('One list, e.g. "presse"'),
      lists: z
        .array(listName)
        .min(1, 'name at least one list')
        .optional()
        .describe('Several lists, e.g. [presse, lettre]: each person receives one message'),
      tags: z.array(text).optional(),
      tagsMode: z.enum(['any', 'all'], { error: 'must be "any" or "all"' }).default('any'),
      beats: z
        .array(text)
        .min(1, 'name at least one beat, or leave beats out')
        .optional()
        .describe('Only contacts with one of these beats, e.g. [Numérique, Territoires]'),
      outlets: z
        .array(text)
        .min(1, 'name at least one outlet, or leave outlets out')
        .optional()
        .describe('Only contacts of one of these outlets, e.g. ["Radio Cité"]'),
      languages: z
        .array(languageRange)
        .min(1, 'name at least one language, or leave languages out')
        .optional()
        .describe('Only contacts whose language is one of these, e.g. [fr] (fr takes in fr-BE)'),
      topics: z
        .array(slug)
        .min(1, 'name at least one topic, or leave topics out')
        .optional()
        .describe(
          'Topic alerts: only the list members who confirmed one of these topics, e.g. [numerique] (publishing writes such campaigns itself: docs/subscriptions.md)',
        ),
    }),
    from: sender
      .optional()
      .describe('"Display Name <address>" or { name, address }; default: the workspace\'s sender'),
    replyTo: email.optional(),
    subject: text.optional().describe("Default: the release's (or the issue's) title"),
    sendAt: z
      .string()
      .optional()
      .describe(
        "2021-06-08T08:00:00+02:00, 2021-06-08T08:00 Europe/Paris, or 2021-06-08 08:00 in the workspace's time zone",
      ),
    attachPdf: z.boolean().default(false).describe("Attach the release's PDF instead of linking it"),
    approval: z
      .literal('required', { error: 'must be "required" (or left out)' })
      .optional()
      .describe(
        'required: send and schedule refuse the campaign until `pressroom campaign approve` records who approved this very version',
      ),
    embargo: z
      .enum(['advance'], { error: 'must be "advance" (or leave it out)' })
      .optional()
      .describe(
        "advance: send before the release's embargo lifts, to press lists only, with an embargo notice and personal copy links (docs/sending.md)",
      ),
    tracking: z
      .strictObject({
        opens: z.boolean().default(false).describe('Record opens (a 1×1 image from the press room)'),
        clicks: z
          .boolean()
          .default(false)
          .describe("Record clicks (the email's links go through the press room, signed)"),
      })
      .optional()
      .describe('Opens and clicks for `pressroom campaign report`; off unless turned on here'),
  })
  .describe('A pressroom campaign');

/** What a campaign sends: a published release, or a newsletter issue. Exactly one. */
export type CampaignContent =
  | { publication: string; newsletter?: undefined }
  | { newsletter: string; publication?: undefined };

export type CampaignDefinition = CampaignContent & {
  name: string;
  /** `lists` (records written before it have `list`: read them with audienceLists). */
  audience: AudienceFilter & { tagsMode: 'any' | 'all' };
  from: { name: string; address: string };
  replyTo?: string;
  subject?: string;
  sendAt?: SendTime;
  attachPdf: boolean;
  /** `required`: sending and scheduling need an approval of this version (approval.ts). */
  approval?: 'required';
  /**
   * `embargo: advance`: sent under the release's embargo (to press lists only, checked when
   * the file is read), its notice's times shown in `zone` (the workspace's). advance-copy.ts.
   */
  advance?: { zone: string };
  /** Opens and clicks recorded (tracking.ts); absent: neither. */
  tracking?: CampaignTracking;
};

export type CampaignState = 'draft' | 'scheduled' | 'sending' | 'paused' | 'sent' | 'cancelled';

/** The campaign as stored: its definition and where it stands. */
export interface CampaignRecord {
  definition: CampaignDefinition;
  state: CampaignState;
  source: string;
  createdAt: string;
  updatedAt: string;
  /** The audience size at the last dispatch. */
  audienceSize?: number;
  /** Why the campaign was paused (error budget, a due job that could not send it). */
  pausedReason?: string;
  /**
   * Why the last start nobody watched failed: a schedule firing (the dispatch function on
   * AWS, the due job of `serve` or `run-due` locally). Cleared when a run starts, or when the
   * campaign is scheduled again.
   */
  lastError?: CampaignFailure;
  /** The run sending it now, until when (lease.ts). */
  lease?: CampaignLease;
  /**
   * Where and from when the days after the first go, when the sending quota spreads the
   * campaign (quota.ts): written by the command line (the workspace's zone, `--daily-start`).
   */
  pacing?: PacingSettings;
  /** How dispatch spread what was left over days, at its last run (quota.ts). */
  plan?: SendingPlan;
  /** One per run. A run without endedAt whose heartbeat is old was cut short (a crash). */
  runs: {
    startedAt: string;
    heartbeatAt?: string;
    endedAt?: string;
    outcome?: string;
    /** Runs dispatched to a queue (AWS): how many batches were enqueued; the run ends when each has its completion marker. */
    batches?: number;
  }[];
}

/** A failed start of a campaign, as its record keeps it. */
export interface CampaignFailure {
  /** When it failed (UTC ISO). */
  at: string;
  /** The error's message, as the command line would print it (addresses masked). */
  message: string;
}

/** Anything shaped like an email address: a damaged file's excerpt in a message may hold one. */
const addressLike = /[^\s<>()[\]"'`,;:]+@[^\s<>()[\]"'`,;:]+/g;

/**
 * A failure as the record keeps it. Messages name files, lists and releases, not people;
 * should one quote an address anyway (an excerpt of a damaged contact file), it is masked.
 */
export function campaignFailure(message: string, at: Date): CampaignFailure {
  return { at: at.toISOString(), message: message.replace(addressLike, '<address>') };
}

/**
 * Records on the campaign's record why starting it failed (compare-and-swap), the state and
 * the rest left as they are. Best effort: a record that is missing or cannot be read is left
 * alone, and the caller passes its error on either way.
 */
export async function recordCampaignFailure(
  store: ObjectStore,
  name: string,
  failure: CampaignFailure,
): Promise<void> {
  await updateCampaign(
    store,
    name,
    () => {
      throw new CampaignNotFoundError(`no campaign "${name}"`);
    },
    (current) => ({ ...current, lastError: failure }),
  ).catch(() => {});
}

/** How to repair each kind of campaign file when it is damaged (see CorruptObjectError). */
export const campaignRepairs = {
  record:
    'Restore it from a backup, or delete it: the next `pressroom send` starts the record again, and the ledger beside it still keeps everyone already mailed from a second copy',
  ledger:
    "This is one recipient's delivery record. Restore it from a backup; deleting it makes the next send treat this recipient as not yet mailed (a second copy if they were mailed)",
  index:
    'Delete it: `pressroom campaign list` then shows each campaign again once it is sent or scheduled again',
  schedule: 'Delete it, then run `pressroom schedule` again for each scheduled campaign',
};

export const campaignKeys = {
  record: (name: string) => `campaigns/${name}/campaign.json`,
  ledgerPrefix: (name: string) => `campaigns/${name}/ledger/`,
  ledger: (name: string, contactId: string) => `campaigns/${name}/ledger/${contactId}.json`,
  prefix: 'campaigns/',
  index: 'campaigns/index.json',
};

interface CampaignIndex {
  names: string[];
}

export class CampaignNotFoundError extends PressroomError {
  override name = 'CampaignNotFoundError';
}

export async function readCampaign(store: ObjectStore, name: string): Promise<CampaignRecord> {
  const record = await getJson<CampaignRecord>(store, campaignKeys.record(name), {
    repair: campaignRepairs.record,
  });
  if (!record)
    throw new CampaignNotFoundError(`no campaign "${name}": \`pressroom campaign list\` shows them`);
  return record.value;
}

/** A campaign record as first written: a draft with no runs. */
export function newCampaignRecord(
  definition: CampaignDefinition,
  source: string,
  at: string,
): CampaignRecord {
  return { definition, state: 'draft', source, createdAt: at, updatedAt: at, runs: [] };
}

/** Changes the campaign record with compare-and-swap (created from `initial` when absent). */
export function updateCampaign(
  store: ObjectStore,
  name: string,
  initial: () => CampaignRecord,
  change: (current: CampaignRecord) => CampaignRecord,
): Promise<CampaignRecord> {
  return updateJson(store, campaignKeys.record(name), initial, change, { repair: campaignRepairs.record });
}

/** Remembers a campaign's name, for `campaign list`. */
export async function registerCampaign(store: ObjectStore, name: string): Promise<void> {
  const index = await getJson<CampaignIndex>(store, campaignKeys.index, { repair: campaignRepairs.index });
  if (index?.value.names.includes(name)) return;
  await updateJson<CampaignIndex>(
    store,
    campaignKeys.index,
    () => ({ names: [] }),
    (current) => ({
      names: [...new Set([...current.names, name])].sort(),
    }),
    { repair: campaignRepairs.index },
  );
}

export async function campaignNames(store: ObjectStore): Promise<string[]> {
  return (
    (await getJson<CampaignIndex>(store, campaignKeys.index, { repair: campaignRepairs.index }))?.value
      .names ?? []
  );
}

/**
 * Tells a run whether its campaign was stopped while it sends (`pressroom campaign stop`: the
 * record says `paused`), reading the record at most once per `everyMs`; the reason, once seen.
 */
export function stopWatch(
  store: ObjectStore,
  name: string,
  everyMs = 250,
): () => Promise<string | undefined> {
  let lastRead = Number.NEGATIVE_INFINITY;
  let reason: string | undefined;
  return async () => {
    if (reason !== undefined || performance.now() - lastRead < everyMs) return reason;
    lastRead = performance.now();
    const record = await readCampaign(store, name).catch(() => undefined);
    if (record?.state === 'paused') reason ??= record.pausedReason ?? 'stopped';
    return reason;
  };
}
