import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Context, S3Event } from 'aws-lambda';
import * as z from 'zod';
import { LambdaPdfPrinter } from '../adapters/lambda-pdf.ts';
import {
  EventBridgeCampaignScheduler,
  EventBridgeLiftCanceller,
  EventBridgeLiftScheduler,
  type LiftEvent,
} from '../adapters/scheduler.ts';
import { sharpImages } from '../adapters/sharp-images.ts';
import { storeSourceFiles } from '../adapters/store-files.ts';
import { runDueDigests } from '../core/alerts/digest.ts';
import { type AlertOutcome, alertDelayMs, queueReleaseAlerts } from '../core/alerts/release-alert.ts';
import {
  type LiftCancellation,
  type LiftCanceller,
  type LiftPlan,
  type LiftScheduler,
  planLift,
} from '../core/archive/lift.ts';
import { ReleaseNotFoundError, readManifest } from '../core/archive/manifest.ts';
import {
  type PublishDeps,
  publishRelease,
  releaseDueEmbargoes,
  SlugTakenError,
  siteDeps,
} from '../core/archive/publish.ts';
import { checkWithdrawReason, StaleWithdrawalError, withdrawRelease } from '../core/archive/withdraw.ts';
import { slugOfWithdrawalRequest, withdrawalRequestSchema } from '../core/archive/withdrawal-request.ts';
import { cancelCampaignRemotely, scheduleCampaignRemotely } from '../core/campaigns/remote.ts';
import {
  formatProblems,
  InvalidInputError,
  PressroomError,
  type Problem,
  RefusedFileError,
} from '../core/errors.ts';
import { type PublishIssueDeps, publishIssue } from '../core/newsletter/publish.ts';
import { createNewsletterRenderer } from '../core/newsletter/render.ts';
import { withSourceText } from '../core/publication/load.ts';
import { slug } from '../core/publication/schema.ts';
import { isAdminDraft, reportKeyOf } from '../core/publication/upload.ts';
import { createReleaseRenderer } from '../core/render/document.ts';
import { listAll, type ObjectStore } from '../core/store/object-store.ts';
import { loadConfig } from './config.ts';
import { listsKey, readStackLists } from './lists.ts';
import { cached, dataStore, logger, ownFunctionArn, startInvocation } from './runtime.ts';
import { templateSet } from './templates.ts';

/**
 * The publish function: an object created under `publications/` (an S3 event notification)
 * is validated, rendered, archived and put in the press room by the same core as
 * `pressroom publish`; one under `publications/newsletters/` is a newsletter issue, published
 * as `pressroom newsletter publish` does. A file with problems gets `<name>.errors.json`
 * beside it and the archive is left as it was; a good one removes a stale report. A release's
 * PDF is printed by the Chromium of the function's layer; when it cannot be, the release is
 * published without one, with a notice and an error in the log (see `pdfBudgetMs`).
 *
 * Redelivered events publish the same release or issue again (same content), which is
 * harmless; an event about an object that was replaced since is skipped, since the newer
 * object has its own event.
 *
 * A release published under an embargo gets its lift: a one-time EventBridge Scheduler
 * schedule at the embargo's instant, named after its slug (republished with another
 * embargo, the schedule moves), which invokes this function with `{ "lift": "embargoes" }`.
 * That event, also sent every 15 minutes by an EventBridge rule in case a lift was missed,
 * publishes every release whose embargo has passed and refreshes the press room
 * (`releaseDueEmbargoes`, as `pressroom archive refresh` does); slugs and counts are logged.
 *
 * A release published public with tags that an alert list of `config/lists.yaml` offers as
 * topics gets its topic alert, as `pressroom publish` does locally: the campaign
 * `alert-<list>-<slug>` is written and scheduled as `pressroom schedule --backend aws` does (a
 * one-time schedule of the campaigns' group that invokes dispatch), a minute later or at the
 * embargo's lift; a waiting alert of a release no longer public is cancelled, its schedule
 * deleted. An invalid `config/lists.yaml` publishes the release with a notice and no alert.
 *
 * An object created under `publications/withdrawals/` (`<slug>.json`, its own notification)
 * is a withdrawal request of the web admin: the release is withdrawn as `pressroom archive
 * withdraw --backend aws` does, the lift of a release withdrawn under its embargo deleted
 * (withdrawRequested).
 *
 * `{ "digests": "due" }`, sent every day at 08:00 in PRESSROOM_TIME_ZONE by the digests'
 * schedule (lib/digests.ts), runs the digest job of `pressroom serve` and `run-due`
 * (alerts/digest.ts): each digest due is published as a private newsletter issue (from the
 * first organisation under publications/organizations/) and its campaign scheduled in the
 * campaigns' group a minute later, which dispatch and send mail.
 */

export const publicationsPrefix = 'publications/';
/** Newsletter issues are another format: every `.md` under this prefix is one. */
const newslettersPrefix = 'publications/newsletters/';

/** The error report written beside a publication that could not be published. */
export interface PublicationReport {
  publication: string;
  checkedAt: string;
  /** The problems, one per line, as `pressroom publish` prints them. */
  message: string;
  problems: {
    file: string;
    line?: number;
    column?: number;
    field: string;
    value?: unknown;
    message: string;
  }[];
}

/** The event of an embargo's lift and of the safety refresh (lambdas/adapters/scheduler.ts). */
export const liftEventSchema = z.strictObject({ lift: z.literal('embargoes'), release: slug.optional() });

/** The event of the digests' daily schedule (lib/digests.ts). */
export const digestEventSchema = z.strictObject({ digests: z.literal('due') });
export type DigestEvent = z.infer<typeof digestEventSchema>;

/** What a digests' run made: a campaign per group of subscribers, each scheduled a minute later. */
export interface DigestReport {
  digests: 'due';
  campaigns: {
    name: string;
    list: string;
    frequency: string;
    releases: string[];
    people: number;
    sendAt: string;
  }[];
}

/** What a lift published. */
export interface LiftReport {
  lift: 'embargoes';
  /** The releases now public. */
  released: string[];
}

/** What became of one record of the event. */
export type PublishOutcome =
  | {
      key: string;
      outcome: 'published';
      slug: string;
      state: string;
      action: string;
      notices?: string[];
      /** An embargoed release's lift: scheduled, or done at once when the embargo has passed. */
      lift?: LiftPlan;
      /** Its topic alerts, one per alert list with a topic among its tags. */
      alerts?: AlertOutcome[];
    }
  | {
      key: string;
      outcome: 'published';
      newsletter: string;
      state: string;
      action: string;
      notices?: string[];
    }
  | {
      key: string;
      outcome: 'withdrawn';
      slug: string;
      /** What withdrawing did: withdrawn now, or already before (nothing changed). */
      withdrawal: 'withdrawn' | 'purged' | 'already';
      /** Withdrawn before but cut short (a failed or killed run): this one finished it. */
      resumed?: true;
      siteObjectsWritten: number;
      /** The lift of a release withdrawn under its embargo: deleted, none, or left to fire for nothing. */
      lift?: LiftCancellation;
      alerts?: AlertOutcome[];
    }
  | { key: string; outcome: 'refused'; slug: string; reason: string }
  | { key: string; outcome: 'rejected'; report: string; problems: number }
  | { key: string; outcome: 'ignored'; reason: string };

/** The report's key for a publication key (the command line reads it too). */
export { reportKeyOf };

const s3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string() }),
          object: z.object({ key: z.string().min(1), eTag: z.string().optional() }),
        }),
      }),
    )
    .optional(),
});

/** S3 URL-encodes keys in notifications, spaces as `+` (form encoding). Undefined when malformed. */
export function decodeS3Key(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * What publishing a file gives: the release's slug or the issue's id, its state, what was
 * done, and what the user should know (a file converted to UTF-8).
 */
type Published = ({ slug: string; lift?: LiftPlan; alerts?: AlertOutcome[] } | { newsletter: string }) & {
  state: string;
  action: string;
  notices: string[];
};

/**
 * One kind of file the function publishes, and the field a clash of identifiers is reported
 * on. `self` is the function's own ARN, the target of an embargo's lift.
 */
interface Publisher {
  idField: 'slug' | 'id';
  publish(file: string, self: string | undefined): Promise<Published>;
}

/** The two kinds of file the function publishes: a release, and a newsletter issue. */
interface Publishers {
  release: Publisher;
  newsletter: Publisher;
}

/**
 * How long printing a release's PDF may take before the release is published without it:
 * twice the slowest first publish measured, extraction of Chromium included (27 s on a busy
 * machine: docs/aws.md, "PDFs on Lambda"), well within the function's 5 minutes.
 */
export const pdfBudgetMs = 60_000;

const context = cached(async () => {
  const config = loadConfig(['bucket', 'siteUrl', 'siteLang', 'siteTitle', 'templatesDir']);
  const templates = await templateSet(config.templatesDir);
  const store = dataStore(config.bucket);
  const shared = {
    store,
    // Publications read only what was uploaded with them, under publications/.
    files: storeSourceFiles(store, { root: publicationsPrefix }),
    ...siteDeps(templates, config),
  };
  const releaseDeps: PublishDeps = {
    ...shared,
    renderer: createReleaseRenderer(templates),
    printer: new LambdaPdfPrinter(pdfBudgetMs),
    // sharp comes from the function's layer, loaded when a release lists press kit images.
    images: sharpImages(),
  };
  const issueDeps: PublishIssueDeps = { ...shared, renderer: createNewsletterRenderer(templates) };
  const publishers: Publishers = {
    release: {
      idField: 'slug',
      async publish(file, self) {
        const { slug, state, action, notices, pdf, embargo } = await publishRelease(file, releaseDeps);
        if (!pdf.stored) {
          logger.error('the PDF could not be printed: the release is published without it', {
            slug,
            reason: pdf.reason,
          });
          notices.push(
            `no PDF: ${pdf.reason}. The release is published without it; upload ${file.slice(1)} again (or publish it again with --backend aws) to print it`,
          );
        }
        const lift =
          embargo === undefined
            ? undefined
            : await planLift({ slug, embargo }, { ...releaseDeps, lifts: await liftScheduler(self) });
        const alerts = await releaseAlerts(store, slug, notices);
        return {
          slug,
          state,
          action,
          notices,
          ...(lift && { lift }),
          ...(alerts.length > 0 && { alerts }),
        };
      },
    },
    // An upload has no --replace: an issue of another file with the same id is refused.
    newsletter: {
      idField: 'id',
      async publish(file) {
        const { id, state, action, notices } = await publishIssue(file, issueDeps);
        return { newsletter: id, state, action, notices };
      },
    },
  };
  return { bucket: config.bucket, store, publishers, releaseDeps, issueDeps };
});

/** Read when an embargoed release is published or withdrawn: other publications need none of it. */
const liftSettings = cached(async () => ({
  ...loadConfig(['liftScheduleGroup', 'liftRoleArn', 'liftDeadLetterArn']),
  client: new SchedulerClient({}),
}));

/**
 * Made when a release withdrawn under its embargo has a lift to delete: the same canceller as
 * `pressroom archive withdraw --backend aws`, on the lifts' group of {@link liftSettings}.
 */
const liftCanceller = cached(async () => {
  const { liftScheduleGroup, client } = await liftSettings();
  return new EventBridgeLiftCanceller({ groupName: liftScheduleGroup, client });
});

/** Read when a release calls for a topic alert: the campaigns' schedules, which invoke dispatch. */
const alertSettings = cached(async () => {
  const settings = loadConfig([
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    'dispatchFunctionArn',
  ]);
  if (settings.campaignScheduleGroup === undefined)
    throw new Error('PRESSROOM_CAMPAIGN_SCHEDULE_GROUP is not set: topic alerts cannot be scheduled');
  return new EventBridgeCampaignScheduler({
    groupName: settings.campaignScheduleGroup,
    roleArn: settings.campaignSchedulerRoleArn,
    deadLetterArn: settings.campaignScheduleDeadLetterArn,
    targetArn: settings.dispatchFunctionArn,
  });
});

/**
 * Schedules (or cancels) the release's topic alerts, as `pressroom publish` does locally, when
 * `config/lists.yaml` has alert lists. An invalid file is a notice: the release is published.
 */
async function releaseAlerts(store: ObjectStore, slug: string, notices: string[]): Promise<AlertOutcome[]> {
  const { lists, invalid } = await readStackLists(store);
  if (invalid) {
    logger.error(`${listsKey} is invalid: no topic alert scheduled`, { slug, error: invalid });
    const problems =
      invalid instanceof InvalidInputError ? formatProblems(invalid.problems) : invalid.message;
    notices.push(
      `${listsKey} is invalid, so no topic alert was scheduled for ${slug}; fix it, then upload the release again:\n${problems}`,
    );
    return [];
  }
  if (!Object.values(lists).some((list) => list.topics)) return [];
  const { summary } = await readManifest(store, slug);
  return queueReleaseAlerts(summary, lists, {
    store,
    schedule: async (definition, source, now) =>
      scheduleCampaignRemotely(
        definition,
        { store, scheduler: await alertSettings(), clock: () => now },
        source,
      ),
    cancel: async (name, now) =>
      cancelCampaignRemotely(name, { store, scheduler: await alertSettings() }, now),
  });
}

/** The lifts, invoking `self` (this function's ARN, without a version or alias). */
async function liftScheduler(self: string | undefined): Promise<LiftScheduler> {
  const settings = await liftSettings();
  return new EventBridgeLiftScheduler({
    groupName: settings.liftScheduleGroup,
    roleArn: settings.liftRoleArn,
    deadLetterArn: settings.liftDeadLetterArn,
    targetArn: ownFunctionArn(self, "an embargo's lift"),
    client: settings.client,
  });
}

/** Where digests' newsletter issues are published from: they are made in memory, never uploaded. */
const organizationsPrefix = `${publicationsPrefix}organizations/`;

/**
 * Makes the digests that are due (the daily one every day, the weekly one on Mondays, as the
 * local due job does): a private newsletter issue and a campaign per group of subscribers,
 * scheduled on the stack a minute later. An invalid `config/lists.yaml` makes none (logged).
 */
export async function makeDigests(): Promise<DigestReport> {
  const { store, issueDeps } = await context();
  const { timeZone } = loadConfig(['timeZone']);
  const { lists, invalid } = await readStackLists(store);
  if (invalid) {
    logger.error(`${listsKey} is invalid: no digest made`, { error: invalid });
    return { digests: 'due', campaigns: [] };
  }
  const publishers: string[] = [];
  for await (const item of listAll(store, organizationsPrefix)) {
    const id = /^([^/]+)\.ya?ml$/.exec(item.key.slice(organizationsPrefix.length))?.[1];
    if (id) publishers.push(id);
  }
  const sendAts = new Map<string, string>();
  const outcomes = await runDueDigests({
    store,
    lists,
    timeZone,
    publishers: publishers.sort(),
    async publishIssue(id, markdown) {
      const file = `/${newslettersPrefix}${id}.md`;
      await publishIssue(
        file,
        { ...issueDeps, files: withSourceText(issueDeps.files, file, markdown) },
        {
          replace: true,
        },
      );
    },
    // A one-time schedule must be ahead of now: the campaign goes a minute later.
    schedule: async (definition, source) => {
      const now = new Date();
      const utc = new Date(now.getTime() + alertDelayMs).toISOString();
      sendAts.set(definition.name, utc);
      const later = { ...definition, sendAt: { utc, zone: 'UTC', written: utc } };
      return scheduleCampaignRemotely(
        later,
        { store, scheduler: await alertSettings(), clock: () => now },
        source,
      );
    },
  });
  const campaigns = outcomes.flatMap((o) =>
    o.campaigns.map((c) => ({
      ...c,
      list: o.list,
      frequency: o.frequency,
      sendAt: sendAts.get(c.name) as string,
    })),
  );
  logger.info('digests', {
    runs: outcomes.map((o) => ({ list: o.list, frequency: o.frequency, until: o.until })),
    campaigns: campaigns.map((c) => c.name),
  });
  return { digests: 'due', campaigns };
}

/** Publishes every release whose embargo has passed, and the press room with them. */
export async function liftEmbargoes(event: LiftEvent): Promise<LiftReport> {
  const { releaseDeps } = await context();
  const released = await releaseDueEmbargoes(releaseDeps);
  logger.info('embargo lift', {
    count: released.length,
    released,
    ...(event.release && { for: event.release }),
  });
  return { lift: 'embargoes', released };
}

/**
 * The Lambda entry point: an S3 notification, or a lift's event. Failures other than bad
 * publications throw, so that Lambda (or Scheduler, or EventBridge) retries.
 */
export async function handler(event: S3Event, lambdaContext?: Context): Promise<PublishOutcome[]>;
export async function handler(event: LiftEvent, lambdaContext?: Context): Promise<LiftReport>;
export async function handler(event: DigestEvent, lambdaContext?: Context): Promise<DigestReport>;
export async function handler(
  event: S3Event | LiftEvent | DigestEvent,
  lambdaContext?: Context,
): Promise<PublishOutcome[] | LiftReport | DigestReport> {
  startInvocation(lambdaContext);
  if ('digests' in event) {
    if (!digestEventSchema.safeParse(event).success)
      throw new Error('a digests event is { "digests": "due" }');
    return makeDigests();
  }
  if ('lift' in event) {
    const lift = liftEventSchema.safeParse(event);
    if (!lift.success)
      throw new Error('a lift event is { "lift": "embargoes" }, with the "release" it was set for');
    return liftEmbargoes(lift.data);
  }
  return publishRecords(event, lambdaContext?.invokedFunctionArn);
}

async function publishRecords(event: S3Event, self: string | undefined): Promise<PublishOutcome[]> {
  const parsed = s3EventSchema.safeParse(event);
  if (!parsed.success) {
    logger.error('not an S3 event notification: nothing done', { issues: parsed.error.issues.length });
    return [];
  }
  // S3 sends an s3:TestEvent without records when the notification is set up.
  const records = parsed.data.Records ?? [];
  const { bucket, store, publishers } = await context();
  const outcomes: PublishOutcome[] = [];
  const failures: unknown[] = [];
  for (const record of records) {
    const key = decodeS3Key(record.s3.object.key);
    try {
      let outcome: PublishOutcome;
      if (key === undefined) outcome = ignored(record.s3.object.key, 'the key is not valid URL encoding');
      else if (record.s3.bucket.name !== bucket)
        outcome = ignored(key, `the event is about the bucket ${record.s3.bucket.name}, not ${bucket}`);
      else if (!record.eventName.startsWith('ObjectCreated:'))
        outcome = ignored(key, `${record.eventName} events are not handled`);
      else outcome = await publishObject(store, publishers, key, record.s3.object.eTag, self);
      outcomes.push(outcome);
      logger.info(`publication ${outcome.outcome}`, { ...outcome });
    } catch (error) {
      // The other records are still tried; the invocation then fails and Lambda retries it.
      logger.error('publishing failed', { key: key ?? record.s3.object.key, error: error as Error });
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} publications failed`);
  return outcomes;
}

function ignored(key: string, reason: string): PublishOutcome {
  return { key, outcome: 'ignored', reason };
}

async function publishObject(
  store: ObjectStore,
  publishers: Publishers,
  key: string,
  eTag: string | undefined,
  self: string | undefined,
): Promise<PublishOutcome> {
  if (!key.startsWith(publicationsPrefix)) return ignored(key, `not under ${publicationsPrefix}`);
  const withdrawing = slugOfWithdrawalRequest(key);
  if (withdrawing !== undefined) return withdrawRequested(store, key, withdrawing, eTag);
  if (!key.toLowerCase().endsWith('.md')) {
    // Organisations, attachments and our own error reports land here too.
    return ignored(key, 'not a publication (.md): organisations and attachments are read with one');
  }
  const current = await store.head(key);
  if (!current) return ignored(key, 'the object was deleted since the event');
  if (eTag !== undefined && unquote(current.version) !== unquote(eTag)) {
    return ignored(key, 'the object was replaced since the event; its own event publishes it');
  }
  if (isAdminDraft(current.metadata))
    return ignored(
      key,
      'a draft saved in the web admin: uploaded again without its mark, it is published (docs/aws.md, "The web admin")',
    );
  // A rooted path: the core resolves the file name to identify the release's source, and
  // "/publications/a.md" stays itself whatever the function's working directory.
  const file = `/${key}`;
  const publisher = key.startsWith(newslettersPrefix) ? publishers.newsletter : publishers.release;
  try {
    const { notices, ...published } = await publisher.publish(file, self);
    for (const notice of notices) logger.warn(notice);
    await store.delete(reportKeyOf(key));
    return { key, outcome: 'published', ...published, ...(notices.length > 0 && { notices }) };
  } catch (error) {
    const problems = problemsOf(error, file, publisher.idField);
    if (!problems) throw error;
    const report = reportKeyOf(key);
    await store.put(report, `${JSON.stringify(publicationReport(key, problems), null, 2)}\n`, {
      contentType: 'application/json',
    });
    logger.warn(formatProblems(problems));
    return { key, outcome: 'rejected', report, problems: problems.length };
  }
}

/**
 * A withdrawal request of the web admin (`publications/withdrawals/<slug>.json`,
 * withdrawal-request.ts): the release withdrawn as `pressroom archive withdraw` does, its
 * waiting topic alerts cancelled, the lift of a release still under its embargo deleted (one
 * that cannot be is left to fire and publish nothing: logged). A request with a reason the
 * core refuses, or for a release the archive does not have, is `refused`, nothing changed,
 * and not retried; one asked before the release was brought back from a withdrawal
 * (`publish --replace`, the manifest's `restoredAt`) is `ignored`. Any other failure (someone else's write to
 * the manifest, an S3 error before or after the record) fails the invocation, so that Lambda
 * tries it again (then the dead-letter queue), and the retry finishes the withdrawal.
 */
async function withdrawRequested(
  store: ObjectStore,
  key: string,
  slugOfKey: string,
  eTag: string | undefined,
): Promise<PublishOutcome> {
  const object = await store.get(key);
  if (!object) return ignored(key, 'the object was deleted since the event');
  if (eTag !== undefined && unquote(object.version) !== unquote(eTag))
    return ignored(key, 'the object was replaced since the event; its own event withdraws it');
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(object.body));
  } catch {
    // JSON.parse's message quotes the text: the reason alone.
  }
  const request = withdrawalRequestSchema.safeParse(body);
  if (!request.success || request.data.slug !== slugOfKey)
    return ignored(key, 'not a withdrawal request: { "slug": <its key\'s>, "reason", "by", "at" }');
  try {
    checkWithdrawReason(request.data.reason);
  } catch (error) {
    if (!(error instanceof PressroomError)) throw error;
    return { key, outcome: 'refused', slug: slugOfKey, reason: error.message };
  }
  const { releaseDeps } = await context();
  try {
    const result = await withdrawRelease(
      slugOfKey,
      { reason: request.data.reason, by: request.data.by, askedAt: request.data.at },
      {
        ...releaseDeps,
        lifts: { cancel: async (name) => (await liftCanceller()).cancel(name) } satisfies LiftCanceller,
        cancelAlert: async (name, now) =>
          cancelCampaignRemotely(name, { store, scheduler: await alertSettings() }, now),
      },
    );
    if (result.lift?.outcome === 'failed')
      logger.error('the embargo lift could not be deleted: it will fire and publish nothing', {
        slug: slugOfKey,
        schedule: result.lift.name,
        reason: result.lift.reason,
      });
    return {
      key,
      outcome: 'withdrawn',
      slug: slugOfKey,
      withdrawal: result.outcome,
      ...(result.resumed && { resumed: result.resumed }),
      siteObjectsWritten: result.siteObjectsWritten,
      ...(result.lift && { lift: result.lift }),
      ...(result.alerts && { alerts: result.alerts }),
    };
  } catch (error) {
    // What the one who asked can act on. Anything else (S3StoreError is a PressroomError too,
    // and so is someone else's write to the manifest) is tried again: Lambda's retries, then
    // the dead-letter queue; never dropped after the admin answered 202.
    if (error instanceof ReleaseNotFoundError)
      return { key, outcome: 'refused', slug: slugOfKey, reason: error.message };
    if (error instanceof StaleWithdrawalError) return ignored(key, error.message);
    throw error;
  }
}

/** The problems of a publication or issue the user must fix; undefined for any other failure. */
function problemsOf(error: unknown, file: string, idField: Publisher['idField']): Problem[] | undefined {
  if (error instanceof InvalidInputError) return error.problems;
  // A file the publication brings, refused where no line names it (read again when copied).
  if (error instanceof RefusedFileError) return [{ file: error.file, path: '', message: error.reason }];
  if (error instanceof SlugTakenError) {
    // The reason alone: the command line's way out, --replace, does not exist for an upload.
    return [{ file, path: idField, message: `${error.reason}.` }];
  }
  return undefined;
}

function publicationReport(key: string, problems: Problem[]): PublicationReport {
  return {
    publication: key,
    checkedAt: new Date().toISOString(),
    message: formatProblems(problems),
    problems: problems.map((p) => ({
      file: p.file,
      ...(p.line !== undefined && { line: p.line }),
      ...(p.column !== undefined && { column: p.column }),
      field: p.path,
      ...(p.value !== undefined && { value: p.value }),
      message: p.message,
    })),
  };
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
