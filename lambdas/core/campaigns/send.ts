import { randomUUID } from 'node:crypto';
import { isPublic } from '../archive/catalog.ts';
import { archiveKeys, type ReleaseManifest, readManifest, refuseWithdrawn } from '../archive/manifest.ts';
import { groupOf, readTranslationGroups } from '../archive/translation-groups.ts';
import {
  type AudienceExclusions,
  type AudienceMember,
  loadSuppressions,
  resolveAudience,
} from '../contacts/audience.ts';
import { type Contact, type ContactKeys, isSuppressed, type Suppression } from '../contacts/model.ts';
import { signUnsubscribeToken } from '../contacts/tokens.ts';
import { PressroomError } from '../errors.ts';
import { issueForCampaign } from '../newsletter/campaign.ts';
import { type Language, languageNamed } from '../publication/languages.ts';
import { compileForRecipients, type PersonalizableEmail } from '../render/recipient.ts';
import { getJson, getText, type ObjectStore } from '../store/object-store.ts';
import {
  advanceCopyExpiry,
  advanceCopyPlaceholders,
  advanceCopyUrls,
  embargoNotice,
  publicReleaseLinks,
  type ReleaseLinks,
  signAdvanceCopyToken,
  toPersonalCopy,
  withEmbargoNotice,
} from './advance-copy.ts';
import { checkApproval } from './approval.ts';
import {
  audienceLists,
  type CampaignDefinition,
  type CampaignRecord,
  newCampaignRecord,
  readCampaign,
  registerCampaign,
  stopWatch,
  updateCampaign,
} from './campaign.ts';
import {
  CampaignBusyError,
  dropLease,
  type HolderAlive,
  type LeaseOwner,
  leaseMs,
  leaseRenewMs,
  takeLease,
} from './lease.ts';
import { isTerminal, type Ledger, type LedgerEntry, type LedgerRecord, ledgerOf, readAll } from './ledger.ts';
import { checkEmailLinks, checkPublicUrls, emailLinks } from './links.ts';
import {
  type Mailer,
  PermanentSendError,
  QuotaExhaustedError,
  SendingHaltedError,
  type SendResult,
  ThrottledError,
} from './mailer.ts';
import {
  type Address,
  asciiDomain,
  type CampaignParts,
  type ComposerFactory,
  type MessageParts,
  type PersonalParts,
} from './message.ts';
import { createMessageComposer } from './message-skeleton.ts';
import { recipientTracking, type TrackedEmail, trackEmail } from './tracking.ts';

/**
 * Sending a campaign: resolve the audience, then for each recipient claim → personalise →
 * compose → send → record, with several sends in flight and never more per second than the
 * rate. Throttling is retried with back-off and never counted as a failure; a refused
 * address is recorded and the campaign goes on; too many failures pause it. Running it
 * again resumes: only recipients without an outcome are sent to.
 */

export class EmbargoError extends PressroomError {
  override name = 'EmbargoError';
}

export class NotYetError extends PressroomError {
  override name = 'NotYetError';
}

export interface SendDeps {
  store: ObjectStore;
  mailer: Mailer;
  keys: ContactKeys;
  /** Base of the unsubscribe links, e.g. https://press.example.org (the public endpoint). */
  publicUrl: string;
  /** The press room's address (PRESSROOM_SITE_URL): checked, with publicUrl, before a real send. */
  siteUrl?: string;
  /** Where mail clients send the mailto: unsubscribe; default the campaign's reply-to or sender. */
  unsubscribeMailbox?: string;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Who this run is, as the campaign's lease shows it to others (default "a pressroom run"). */
  owner?: LeaseOwner;
  /** Tells a lease holder known to be dead (a local process gone): its lease is taken at once. */
  holderAlive?: HolderAlive;
  /** The zone times are shown in, in messages (default UTC). */
  timeZone?: string;
  /** Lists declared in the workspace: a campaign may name one that has no contact yet. */
  lists?: readonly string[];
  /** The delivery ledger (DynamoDB on AWS); default the store's. */
  ledger?: Ledger;
}

export interface SendOptions {
  /**
   * Messages per second, at most. Default: the mailer's limit (`maxRate`; Infinity for the
   * outbox: as fast as the disk allows), else 10.
   */
  rate?: number;
  /** Sends in flight at once. Default: enough for the rate at ~200 ms per send. */
  concurrency?: number;
  dryRun?: boolean;
  /** Send one test message to this address (to each of these) only; record nothing. */
  testTo?: string | readonly string[];
  /** Send again to recipients whose send was in flight when a run stopped (may duplicate). */
  resendUncertain?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Pause when more than `ratio` of sends fail, once `after` sends were tried. */
  errorBudget?: { ratio: number; after: number };
  /** Tries for an error that is neither throttling nor permanent. */
  maxAttempts?: number;
  /** Throttled retries before a recipient is left for the next run (recorded, not lost). */
  maxThrottleRetries?: number;
  /** Recipients in a row failing with the same transient error before the run pauses. Default 10. */
  maxSameTransient?: number;
  /** When another run holds the campaign: wait until it is done instead of CampaignBusyError. */
  wait?: boolean;
  /** Told each time the run finds the campaign held while waiting. */
  onWait?: (busy: CampaignBusyError) => void;
  /** A lease the caller already took for this run (the scheduler's takeover). */
  leaseId?: string;
}

export interface Progress {
  total: number;
  done: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Messages per second so far in this run. */
  rate: number;
}

export interface SendReport {
  campaign: string;
  state: CampaignRecord['state'];
  audience: number;
  /** Matching the audience but marked do-not-contact: left out, never mailed. */
  doNotContact?: number;
  /** Sent in this run. */
  sent: number;
  failed: number;
  skipped: number;
  throttled: number;
  /** Left for the next run: still throttled after the retries, or the run stopped. */
  deferred: number;
  /** In flight when an earlier run stopped; not resent (see resendUncertain). */
  uncertain: string[];
  alreadyDone: number;
  interrupted: boolean;
  pausedReason?: string;
  /** Another run took the campaign over (this one had been silent too long): this one stopped. */
  takenOverBy?: string;
  elapsedMs: number;
  dryRun?: { sample: { subject: string; to: string; size: number } | undefined };
  /** The first test message (see `tests`). */
  test?: { to: string; messageId: string };
  /** Every test message, one per address of `testTo`. */
  tests?: { to: string; messageId: string }[];
}

export interface Prepared {
  definition: CampaignDefinition;
  email: PersonalizableEmail;
  subject: string;
  attachments: MessageParts['attachments'];
  listId: string;
  domain: string;
  /** The absolute links of the email (href, src), for the check before a real send. */
  links: string[];
  /** What every message of the campaign shares (its skeleton is built from it). */
  common: CampaignParts;
  /**
   * An advance copy's parts once its embargo has passed (the subject without the notice): the
   * batches of a run still being sent then are composed with them.
   */
  commonAfterEmbargo?: CampaignParts;
  /** Composes each recipient's message from the campaign's, built once. */
  compose: (personal: PersonalParts) => Uint8Array;
  /** What `compose` was made by: a test message (another subject) is composed by it too. */
  composer: ComposerFactory;
  /**
   * An advance copy (`embargo: advance`, the embargo still ahead): the release, until when its
   * copy links work, and its public links, which each message points at the recipient's copy.
   */
  advance?: { slug: string; expiresAt: Date; publicLinks: ReleaseLinks };
  /** The email's tracked links and image, when the campaign tracks opens or clicks. */
  tracked?: TrackedEmail;
  /**
   * The release's translations public now, by language: a contact whose language is one of
   * them is sent that version (messageFor). None for a newsletter, an advance copy, or a
   * campaign that needs an approval (only the approved version goes).
   */
  translations?: Partial<Record<Language, PreparedVersion>>;
}

/** What differs in a translation's message: its email, subject and parts (PDF), its links. */
export type PreparedVersion = Pick<
  Prepared,
  'email' | 'tracked' | 'subject' | 'attachments' | 'links' | 'common' | 'compose'
> & { slug: string };

/** Messages per second when neither `--rate` nor the mailer says (an SMTP server's limit is not known). */
export const defaultRate = 10;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type PrepareOptions = {
  test?: boolean;
  /** false: the run was approved when it started (the batches of a dispatched run). */
  checkApproval?: boolean;
};

/** Checks what may be sent now, and prepares the message once for every recipient. */
export function prepareCampaign(
  definition: CampaignDefinition,
  deps: Pick<SendDeps, 'store' | 'clock' | 'timeZone'>,
  options: PrepareOptions = {},
): Promise<Prepared> {
  return prepareCampaignWith(createMessageComposer, definition, deps, options);
}

/**
 * prepareCampaign, its messages composed by `composer`: the send function's composes from the
 * skeleton stored by dispatch (message.ts: `storedComposer`), so that its code does not hold
 * MailComposer.
 */
export async function prepareCampaignWith(
  composer: ComposerFactory,
  definition: CampaignDefinition,
  deps: Pick<SendDeps, 'store' | 'clock' | 'timeZone'>,
  options: PrepareOptions = {},
): Promise<Prepared> {
  const now = (deps.clock ?? (() => new Date()))();
  // What is sent: a release, never before its embargo, or a newsletter issue, never while a
  // release it links to is not public. A test message goes to the sender's own address:
  // checking it before the embargo is the point.
  const what = definition.newsletter ?? definition.publication;
  let title: string;
  let prefix: string;
  let notice: ReturnType<typeof embargoNotice> | undefined;
  let advance: Prepared['advance'];
  if (definition.newsletter !== undefined) {
    const issue = await issueForCampaign(deps.store, definition.newsletter, now);
    if (issue.notPublic.length > 0 && !options.test) {
      throw new EmbargoError(
        `newsletter "${what}" links to releases that are not public now: ${issue.notPublic.join(', ')}. Nothing is sent: publish the issue again without them, or send it once they are public.`,
      );
    }
    ({ title, prefix } = issue);
  } else {
    const manifest = await readManifest(deps.store, definition.publication);
    refuseWithdrawn(definition.publication, manifest);
    const embargo = manifest.summary.embargo;
    const underEmbargo = embargo !== undefined && Date.parse(embargo) > now.getTime();
    if (underEmbargo && !options.test && !definition.advance) {
      throw new EmbargoError(
        `"${what}" is under embargo until ${embargo}: nothing is sent before then. Schedule the campaign for that time or later (pressroom schedule), or, to send journalists an advance copy under embargo, write "embargo: advance" in the campaign (press lists only: docs/sending.md).`,
      );
    }
    title = manifest.summary.title;
    prefix = archiveKeys.version(definition.publication, manifest.version);
    if (underEmbargo && definition.advance) {
      notice = embargoNotice(embargo, manifest.summary.lang, definition.advance.zone);
      advance = {
        slug: definition.publication,
        expiresAt: advanceCopyExpiry(embargo),
        publicLinks: publicReleaseLinks(manifest.siteUrl ?? '/', definition.publication),
      };
    }
  }
  if (definition.sendAt && Date.parse(definition.sendAt.utc) > now.getTime() && !options.test) {
    throw new NotYetError(
      `campaign "${definition.name}" is set to go at ${definition.sendAt.written} (${definition.sendAt.utc} UTC): use \`pressroom schedule\` to send it then, or remove sendAt to send now.`,
    );
  }
  // `approval: required`: only the version approved goes (a test or a dry run is how it is checked).
  if (!options.test && options.checkApproval !== false) {
    await checkApproval(definition, deps.store, {
      source: { prefix, title, what: what ?? '' },
      ...(deps.timeZone && { timeZone: deps.timeZone }),
    });
  }
  const archived = await archivedEmail(deps.store, prefix, what ?? '');
  // Under embargo: the notice on top, and the links to the release placeholders that each
  // message fills with the recipient's own copy.
  const { html, text } =
    notice && advance
      ? toPersonalCopy(withEmbargoNotice(archived, notice), advance.publicLinks, advanceCopyPlaceholders)
      : archived;
  let attachments: MessageParts['attachments'];
  if (definition.attachPdf) {
    attachments = await pdfAttachment(deps.store, prefix, what ?? '');
    if (!attachments) {
      throw new PressroomError(
        `"${what}" has no PDF to attach (it was published without Chromium): publish it again with Chromium, or set attachPdf: false`,
      );
    }
  }
  const domain = asciiDomain(definition.from.address);
  const common: CampaignParts = {
    from: definition.from,
    ...(definition.replyTo && { replyTo: definition.replyTo }),
    subject: (notice?.subjectPrefix ?? '') + (definition.subject ?? title),
    listId: listIdOf(audienceLists(definition.audience)[0] ?? 'campaign', domain),
    ...(attachments && { attachments }),
  };
  // Opens and clicks, when the campaign asks: links and image made placeholders once.
  const tracked = definition.tracking && trackEmail(html, definition.tracking);
  const translations =
    definition.publication !== undefined &&
    !definition.newsletter &&
    !advance &&
    definition.approval !== 'required'
      ? await translatedVersions(definition.publication, { ...common }, composer, deps.store, now, definition)
      : undefined;
  return {
    ...(translations && { translations }),
    definition,
    email: compileForRecipients({ html: tracked?.html ?? html, text }),
    ...(tracked && { tracked }),
    subject: common.subject,
    attachments,
    listId: common.listId,
    domain,
    links: emailLinks(html),
    common,
    ...(notice && { commonAfterEmbargo: { ...common, subject: definition.subject ?? title } }),
    compose: await composer(common),
    composer,
    ...(advance && { advance }),
  };
}

/**
 * Refuses, before anything leaves, a real send whose links would not work for recipients:
 * the unsubscribe base and the site's address, and the links already in the email.
 */
export function checkRealSend(prepared: Prepared, urls: { publicUrl: string; siteUrl?: string | undefined }) {
  checkPublicUrls({ PRESSROOM_PUBLIC_URL: urls.publicUrl, PRESSROOM_SITE_URL: urls.siteUrl });
  const d = prepared.definition;
  checkEmailLinks(d.newsletter ?? d.publication, prepared.links);
  for (const version of Object.values(prepared.translations ?? {}))
    checkEmailLinks(version.slug, version.links);
}

/** A version's archived email (HTML and text), or a clear error. */
async function archivedEmail(store: ObjectStore, prefix: string, what: string) {
  const html = await getText(store, `${prefix}email.html`);
  const text = await getText(store, `${prefix}email.txt`);
  if (html === undefined || text === undefined)
    throw new PressroomError(`the archive of ${what} has no email`);
  return { html, text };
}

/** A version's PDF as an attachment named `<slug>.pdf`, or undefined when it has none. */
async function pdfAttachment(store: ObjectStore, prefix: string, slug: string) {
  const pdf = await store.get(`${prefix}release.pdf`);
  return pdf && [{ filename: `${slug}.pdf`, content: pdf.body, contentType: 'application/pdf' }];
}

/**
 * The versions of a campaign's release in its other languages: each translation (or the
 * original, when the campaign names a translation) public now, not withdrawn, in a language
 * the release is not, with its own title as subject (the campaign's `subject` is written in
 * the release's language) and its own PDF when the campaign attaches one (a translation
 * without a PDF is not used). Undefined when there is none.
 */
async function translatedVersions(
  slug: string,
  common: CampaignParts,
  composer: ComposerFactory,
  store: ObjectStore,
  now: Date,
  definition: CampaignDefinition,
): Promise<Prepared['translations']> {
  const manifest = await readManifest(store, slug);
  const members = groupOf(await readTranslationGroups(store), manifest.summary);
  const versions: NonNullable<Prepared['translations']> = {};
  for (const member of members) {
    if (member.slug === slug || member.lang === manifest.summary.lang || !isPublic(member, now)) continue;
    const other = (await getJson<ReleaseManifest>(store, archiveKeys.manifest(member.slug)))?.value;
    if (!other || !isPublic(other.summary, now)) continue;
    const prefix = archiveKeys.version(member.slug, other.version);
    const { html, text } = await archivedEmail(store, prefix, member.slug);
    const attachments = definition.attachPdf ? await pdfAttachment(store, prefix, member.slug) : undefined;
    if (definition.attachPdf && !attachments) continue;
    const parts: CampaignParts = {
      ...common,
      subject: other.summary.title,
      ...(attachments && { attachments }),
    };
    const tracked = definition.tracking && trackEmail(html, definition.tracking);
    versions[member.lang] = {
      slug: member.slug,
      email: compileForRecipients({ html: tracked?.html ?? html, text }),
      ...(tracked && { tracked }),
      subject: parts.subject,
      attachments,
      links: emailLinks(html),
      common: parts,
      compose: await composer(parts),
    };
  }
  return Object.keys(versions).length > 0 ? versions : undefined;
}

/** The version of the campaign a contact reads: the one in their language, when there is one. */
export function versionFor(
  prepared: Prepared,
  language: string | undefined,
): Prepared | (Prepared & PreparedVersion) {
  const lang = languageNamed(language);
  const version = lang && prepared.translations?.[lang];
  return version ? { ...prepared, ...version } : prepared;
}

/** The message for one recipient. */
export async function messageFor(
  prepared: Prepared,
  contact: Recipient,
  deps: SendDeps,
  date: Date,
  overrides: { subjectPrefix?: string; messageId?: string } = {},
): Promise<{ raw: Uint8Array; messageId: string }> {
  // The version in the contact's language, when the release has one (translations).
  prepared = versionFor(prepared, contact.language);
  const d = prepared.definition;
  // The lists this message reaches the person through: its unsubscribe link leaves them all,
  // and its List-Id is the first of them.
  const lists = contact.via && contact.via.length > 0 ? contact.via : audienceLists(d.audience);
  const [list = 'campaign'] = lists;
  const token = signUnsubscribeToken(deps.keys, {
    contact: contact.id,
    list,
    ...(lists.length > 1 && { lists }),
    campaign: d.name,
  });
  const unsubscribeUrl = `${deps.publicUrl.replace(/\/$/, '')}/unsubscribe/${token}`;
  const mailbox = deps.unsubscribeMailbox ?? d.replyTo ?? d.from.address;
  const advance = prepared.advance;
  const filled = prepared.email.fillSegments({
    recipient: {
      email: contact.email,
      ...(contact.firstName && { firstName: contact.firstName }),
      ...(contact.lastName && { lastName: contact.lastName }),
    },
    unsubscribeUrl,
    ...(advance && {
      advanceCopy: advanceCopyUrls(
        deps.publicUrl,
        signAdvanceCopyToken(deps.keys, {
          slug: advance.slug,
          contact: contact.id,
          expiresAt: advance.expiresAt,
        }),
      ),
    }),
    ...(prepared.tracked && {
      tracking: recipientTracking(deps.keys, prepared.tracked, {
        campaign: d.name,
        contact: contact.id,
        publicUrl: deps.publicUrl,
        sentAt: date,
      }),
    }),
  });
  const messageId = overrides.messageId ?? `<${d.name}.${contact.id}@${prepared.domain}>`;
  const personal: PersonalParts = {
    to: recipientAddress(contact),
    ...(contact.to !== undefined && { toHeader: contact.to }),
    html: filled.html,
    text: filled.text,
    messageId,
    date,
    unsubscribe: { url: unsubscribeUrl, mailto: `mailto:${mailbox}?subject=unsubscribe%20${token}` },
    listId: listIdOf(list, prepared.domain),
  };
  let raw: Uint8Array;
  if (overrides.subjectPrefix) {
    const parts = {
      ...personal,
      ...prepared.common,
      subject: `${overrides.subjectPrefix}${prepared.subject}`,
    };
    raw = (await prepared.composer(parts))(parts);
  } else raw = prepared.compose(personal);
  return { raw, messageId };
}

/** A List-Id (RFC 2919): `<list.sender-domain>`. */
const listIdOf = (list: string, domain: string) => `<${list}.${domain}>`;

/**
 * A recipient as a message needs them; `via`: the campaign's lists that reach them (default
 * all); `to`: their To header encoded already (by dispatch: `recipientAddress` and `encodeTo`).
 */
export type Recipient = Pick<Contact, 'id' | 'email' | 'firstName' | 'lastName' | 'language'> & {
  via?: string[];
  to?: string;
};

/** Whom a message is addressed to: the name the contact gave, and their address. */
export function recipientAddress(contact: Pick<Contact, 'email' | 'firstName' | 'lastName'>): Address {
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(' ');
  return { ...(name && { name }), address: contact.email };
}

/**
 * Start times for sends: evenly spaced at `rate` per second, and never more than `rate`
 * actual starts in any sliding second, even when timers fire late and then catch up. The
 * limiter calls `start` itself, in the same step as it counts the start: no other work (a
 * worker's synchronous write, on a busy machine) can come between the two and bunch calls.
 */
export type SlotWaiter = <T>(start: () => T) => Promise<T>;

export function rateLimiter(rate: number, sleep: (ms: number) => Promise<void>): SlotWaiter {
  // No limit (the outbox): every send starts at once, with nothing to count.
  if (rate === Number.POSITIVE_INFINITY) return async (start) => start();
  const interval = 1000 / rate;
  const limit = Math.max(1, Math.floor(rate));
  // The window is a little longer than a second: the provider counts the requests it
  // receives, a few milliseconds after we count them, and not always equally late.
  const windowMs = 1010;
  const starts: number[] = [];
  let next = performance.now();
  return async <T>(start: () => T): Promise<T> => {
    for (;;) {
      const now = performance.now();
      while (starts.length > 0 && (starts[0] ?? 0) <= now - windowMs) starts.shift();
      const windowFree = starts.length < limit ? now : (starts[0] ?? now) + windowMs;
      const at = Math.max(next, windowFree);
      if (at <= now) {
        starts.push(now);
        next = Math.max(next, now - interval) + interval;
        return start();
      }
      await sleep(at - now + 0.1);
    }
  };
}

/** Sends (or resumes) a campaign. */
export async function sendCampaign(
  definition: CampaignDefinition,
  deps: SendDeps,
  options: SendOptions = {},
): Promise<SendReport> {
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? realSleep;
  const _random = deps.random ?? Math.random;
  const started = performance.now();
  // A test message or a dry run sends nothing to the audience: both work before the embargo.
  const prepared = await prepareCampaign(definition, deps, {
    test: (options.testTo?.length ?? 0) > 0 || options.dryRun === true,
  });
  // Real mail carries working links; a test message to oneself may show a local preview.
  if (deps.mailer.delivers && !options.testTo?.length) checkRealSend(prepared, deps);
  const base: Omit<SendReport, 'state' | 'audience'> = {
    campaign: definition.name,
    sent: 0,
    failed: 0,
    skipped: 0,
    throttled: 0,
    deferred: 0,
    uncertain: [],
    alreadyDone: 0,
    interrupted: false,
    elapsedMs: 0,
  };

  const testTo = typeof options.testTo === 'string' ? [options.testTo] : (options.testTo ?? []);
  if (testTo.length > 0) {
    const tests: { to: string; messageId: string }[] = [];
    const stamp = Date.now().toString(36);
    for (const [index, to] of testTo.entries()) {
      const test = await messageFor(prepared, { id: 'test', email: to }, deps, clock(), {
        subjectPrefix: '[TEST] ',
        messageId: `<${definition.name}.test.${stamp}.${index + 1}@${prepared.domain}>`,
      });
      await deps.mailer.send({
        raw: test.raw,
        messageId: test.messageId,
        from: definition.from.address,
        to,
        campaign: definition.name,
      });
      tests.push({ to, messageId: test.messageId });
    }
    return {
      ...base,
      state: 'draft',
      audience: 0,
      sent: tests.length,
      ...(tests[0] && { test: tests[0] }),
      tests,
      elapsedMs: performance.now() - started,
    };
  }

  // The audience is read twice and never held: once here to count it (and to meet a list
  // nobody is on, or contacts to merge, before anything is sent), then streamed to the
  // workers. Memory holds a few contact shards, not 50,000 contacts.
  const members = (excluded?: AudienceExclusions) =>
    resolveAudience(deps.store, definition.audience, deps.lists, excluded);
  // Do-not-contact people matching the audience: never mailed, and the report says how many.
  const excluded: AudienceExclusions = { doNotContact: 0 };

  if (options.dryRun) {
    const ledger = await readAll(ledgerOf(deps), definition.name);
    let first: AudienceMember | undefined;
    let size = 0;
    let done = 0;
    for await (const contact of members(excluded)) {
      first ??= contact;
      size++;
      if (isTerminal(ledger.get(contact.id)?.entry)) done++;
    }
    const sample = first ? await messageFor(prepared, first, deps, clock()) : undefined;
    return {
      ...base,
      state: (await readCampaign(deps.store, definition.name).catch(() => undefined))?.state ?? 'draft',
      audience: size,
      doNotContact: excluded.doNotContact,
      alreadyDone: done,
      dryRun: {
        sample:
          sample && first
            ? { subject: prepared.subject, to: first.email, size: sample.raw.byteLength }
            : undefined,
      },
      elapsedMs: performance.now() - started,
    };
  }

  let audienceSize = 0;
  for await (const _ of members(excluded)) audienceSize++;

  // The lease first: the ledger is read by the run that holds the campaign, never before.
  const leaseId = options.leaseId ?? randomUUID();
  const startedAt = await openRun(definition, deps, options, leaseId, audienceSize);
  const closeEarly = (error: unknown) =>
    updateThisRun(
      deps.store,
      definition,
      startedAt,
      (run) => ({ ...run, endedAt: clock().toISOString(), outcome: 'error' }),
      (current) => dropLease(current, leaseId),
    ).then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
  const ledger = await readAll(ledgerOf(deps), definition.name).catch(closeEarly);

  // The mailer's own limit (SES MaxSendRate; none for the outbox, which writes as fast as
  // the disk allows), else 10 a second: an SMTP server's limit is not known.
  const rate = options.rate ?? (await deps.mailer.maxRate?.().catch(closeEarly)) ?? defaultRate;
  const concurrency = Math.max(1, options.concurrency ?? Math.min(64, Math.ceil(rate * 0.2) + 1));
  const waitForSlot = rateLimiter(rate, sleep);
  const budget = options.errorBudget ?? { ratio: 0.05, after: 100 };
  const maxAttempts = options.maxAttempts ?? 3;
  const maxThrottleRetries = options.maxThrottleRetries ?? 12;

  // Suppressions are read again now and then: someone who unsubscribes during a long
  // campaign is not mailed afterwards.
  let suppressions = await loadSuppressions(deps.store).catch(closeEarly);
  let suppressionsAt = performance.now();
  const currentSuppression = async (id: string): Promise<Suppression | undefined> => {
    if (performance.now() - suppressionsAt > 30_000) {
      suppressions = await loadSuppressions(deps.store);
      suppressionsAt = performance.now();
    }
    return suppressions.get(id);
  };

  // The recipients this run sends to, taken from the stream as workers are free: those
  // with a final outcome are counted as done, those in flight when a run stopped as
  // uncertain (unless the mailer is idempotent or they are to be sent again).
  const stream = members()[Symbol.asyncIterator]();
  let queued = 0;
  let streamEnded = false;
  const nextRecipient = async (): Promise<AudienceMember | undefined> => {
    for (;;) {
      const item = streamEnded ? undefined : await stream.next();
      if (!item || item.done) {
        streamEnded = true;
        return undefined;
      }
      const contact = item.value;
      const existing = ledger.get(contact.id);
      if (isTerminal(existing?.entry)) {
        base.alreadyDone++;
      } else if (
        existing?.entry.status === 'claimed' &&
        !deps.mailer.idempotent &&
        !options.resendUncertain
      ) {
        base.uncertain.push(existing.entry.email);
      } else {
        queued++;
        return contact;
      }
    }
  };

  let pausedReason: string | undefined;
  /** Set when another run took the lease over (this one was thought dead): this run stops. */
  let takenOverBy: string | undefined;
  /** Until when the lease is surely ours: past it, another run may have taken over. */
  let leaseUntil = clock().getTime() + leaseMs;
  const tally = emptyTally();
  const progress = () =>
    options.onProgress?.({
      total: audienceSize,
      done: base.alreadyDone + tally.sent + tally.failed + tally.skipped,
      sent: tally.sent,
      failed: tally.failed,
      skipped: tally.skipped,
      rate: tally.sent / Math.max(0.001, (performance.now() - started) / 1000),
    });
  const leaseLost = () => takenOverBy !== undefined || clock().getTime() >= leaseUntil - leaseRenewMs / 2;
  const stopped = () => options.signal?.aborted === true || pausedReason !== undefined || leaseLost();
  const delivery: Delivery = {
    definition,
    prepared,
    deps,
    waitForSlot,
    suppressionOf: currentSuppression,
    stopped,
    halt: (reason) => {
      pausedReason ??= reason;
    },
    tally,
    budget,
    resume: `resume it with \`pressroom campaign resume ${definition.name}\``,
    maxAttempts,
    maxThrottleRetries,
    maxSameTransient: options.maxSameTransient ?? 10,
  };
  const deliver = async (contact: AudienceMember) => {
    await deliverTo(delivery, contact, ledger.get(contact.id));
    progress();
  };

  // While it runs, the run renews its lease: a run whose lease ran out is taken to be dead
  // (kill -9, power loss) and another may take the campaign over.
  const renew = async () => {
    const at = clock();
    await updateThisRun(
      deps.store,
      definition,
      startedAt,
      (run) => ({ ...run, heartbeatAt: at.toISOString() }),
      (current) => {
        if (current.lease?.id !== leaseId) {
          takenOverBy ??= current.lease?.holder ?? 'another run';
          return current;
        }
        return takeLease(current, definition.name, leaseId, owner(deps), at);
      },
    );
    if (takenOverBy === undefined) leaseUntil = at.getTime() + leaseMs;
  };
  const heartbeat = setInterval(() => void renew().catch(() => {}), leaseRenewMs);
  heartbeat.unref();
  // An unexpected error (the store failing) stops every worker after its send in flight,
  // and the run is closed before the error goes up: no worker keeps sending unseen.
  let fatal: unknown;
  const stopRequest = stopWatch(deps.store, definition.name);
  const worker = async () => {
    for (;;) {
      // A stop (`pressroom campaign stop`) pauses the record: seen, no recipient starts after it.
      pausedReason ??= await stopRequest();
      if (stopped() || fatal !== undefined) return;
      try {
        const contact = await nextRecipient();
        if (!contact) return;
        await deliver(contact);
      } catch (error) {
        fatal ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, audienceSize)) }, worker));
  // Stopped early: the rest of the audience is only counted (already done, uncertain, left).
  if (fatal === undefined) {
    try {
      while (await nextRecipient());
    } catch (error) {
      fatal = error;
    }
  }

  clearInterval(heartbeat);
  const interrupted = options.signal?.aborted === true || fatal !== undefined || leaseLost();
  // Transient failures and recipients held by another run are left for the next run.
  const remaining = queued - tally.settled;
  const state: CampaignRecord['state'] = pausedReason
    ? 'paused'
    : interrupted || remaining > 0
      ? 'sending'
      : 'sent';
  const endedAt = clock().toISOString();
  const outcome =
    fatal !== undefined
      ? 'error'
      : takenOverBy !== undefined
        ? 'taken over'
        : pausedReason
          ? 'paused'
          : interrupted
            ? 'interrupted'
            : 'completed';
  await updateThisRun(
    deps.store,
    definition,
    startedAt,
    (run) => ({ ...run, endedAt, outcome }),
    (current) => {
      // Taken over meanwhile: the campaign is the other run's to change.
      if (current.lease?.id !== leaseId && current.lease !== undefined) return current;
      const { pausedReason: _old, ...withoutReason } = dropLease(current, leaseId);
      return { ...withoutReason, state, updatedAt: endedAt, ...(pausedReason && { pausedReason }) };
    },
  );
  if (fatal !== undefined) throw fatal;
  return {
    ...base,
    sent: tally.sent,
    failed: tally.failed,
    skipped: tally.skipped,
    throttled: tally.throttled,
    deferred: tally.deferred,
    state,
    audience: audienceSize,
    doNotContact: excluded.doNotContact,
    interrupted,
    ...(pausedReason && { pausedReason }),
    ...(takenOverBy !== undefined && { takenOverBy }),
    elapsedMs: performance.now() - started,
  };
}

/** Who this run is, as a lease shows it. */
const owner = (deps: SendDeps): LeaseOwner => deps.owner ?? { holder: 'a pressroom run' };

/**
 * Takes the campaign's lease and opens a run in its record (state `sending`); waits for the
 * lease with `options.wait`. Returns the run's start time, its id in the record.
 */
async function openRun(
  definition: CampaignDefinition,
  deps: SendDeps,
  options: SendOptions,
  leaseId: string,
  audienceSize: number,
): Promise<string> {
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? realSleep;
  await registerCampaign(deps.store, definition.name);
  for (;;) {
    const now = clock();
    const startedAt = now.toISOString();
    try {
      await updateCampaign(
        deps.store,
        definition.name,
        () => newCampaignRecord(definition, '', startedAt),
        (current) => {
          if (current.state === 'cancelled')
            throw new PressroomError(`campaign "${definition.name}" was cancelled`);
          const leased = takeLease(current, definition.name, leaseId, owner(deps), now, {
            ...(deps.holderAlive && { alive: deps.holderAlive }),
            ...(deps.timeZone && { timeZone: deps.timeZone }),
          });
          // A run starts: an earlier failed start is over.
          const { lastError: _failed, ...rest } = leased;
          return {
            ...rest,
            definition,
            state: 'sending',
            updatedAt: startedAt,
            audienceSize,
            runs: [
              // A run left open was cut short (its lease ran out): close it as such.
              ...current.runs.map((r) =>
                r.endedAt ? r : { ...r, endedAt: startedAt, outcome: 'abandoned' },
              ),
              { startedAt, heartbeatAt: startedAt },
            ],
          };
        },
      );
      return startedAt;
    } catch (error) {
      if (!(error instanceof CampaignBusyError) || !options.wait || options.signal?.aborted) throw error;
      options.onWait?.(error);
      // Looked at again every few seconds, and at once when the lease is due to end.
      const left = Date.parse(error.lease.expiresAt) - clock().getTime();
      await sleep(Math.max(250, Math.min(2_000, left)));
    }
  }
}

/** What a run or a batch counts as it goes. */
export interface Tally {
  sent: number;
  failed: number;
  skipped: number;
  throttled: number;
  deferred: number;
  /** Sends tried (sent or failed), for the error budget. */
  attempted: number;
  /** Recipients that reached an outcome no later run changes. */
  settled: number;
  /** Transient failures in a row with the same error, and that error. */
  sameTransient: number;
  lastTransient?: string | undefined;
}

export const emptyTally = (): Tally => ({
  sent: 0,
  failed: 0,
  skipped: 0,
  throttled: 0,
  deferred: 0,
  attempted: 0,
  settled: 0,
  sameTransient: 0,
});

/** Everything one recipient's delivery needs, shared by the recipients of a run or a batch. */
export interface Delivery {
  definition: CampaignDefinition;
  prepared: Prepared;
  deps: SendDeps;
  waitForSlot: SlotWaiter;
  suppressionOf: (id: string) => Promise<Suppression | undefined>;
  stopped: () => boolean;
  /** Stops the run for a reason of its own (the provider refuses everything, too many failures). */
  halt: (reason: string) => void;
  /**
   * Told when the provider says its daily quota is used up (QuotaExhaustedError): the run stops
   * and waits for the next quota window (a dispatched batch). Absent: that halts, as above.
   */
  quotaExhausted?: (reason: string) => void;
  tally: Tally;
  /**
   * Pause when more than `ratio` of this run's sends fail, once `after` were tried. Left out
   * when the caller counts across workers itself (`counted`, the batches of a dispatched run).
   */
  budget?: { ratio: number; after: number };
  /** Told of each send tried, once its outcome is recorded: counts kept beyond this process. */
  counted?: (outcome: 'sent' | 'failed') => Promise<void>;
  /** How the pause messages say to resume, e.g. "send again to resume". */
  resume: string;
  maxAttempts: number;
  maxThrottleRetries: number;
  /** Recipients in a row failing with the same transient error before the run pauses. */
  maxSameTransient: number;
}

/** What makes two transient errors the same: their code or name and message, numbers aside. */
function transientSignature(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string };
  return `${e.code ?? e.name ?? 'Error'}: ${(e.message ?? String(error)).replace(/\d+/g, '#').slice(0, 200)}`;
}

/**
 * One recipient: claim → (suppressed? skip) → personalise and compose → send, retrying
 * throttling with back-off → record the outcome. Returns the ledger status written, or
 * undefined when another run holds the recipient.
 */
export async function deliverTo(
  d: Delivery,
  contact: Recipient,
  existing: LedgerRecord | undefined,
): Promise<LedgerEntry['status'] | undefined> {
  const { definition, deps, tally } = d;
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const now = clock();
  const entry: LedgerEntry = {
    contact: contact.id,
    email: contact.email,
    ...(contact.firstName || contact.lastName
      ? { name: [contact.firstName, contact.lastName].filter(Boolean).join(' ') }
      : {}),
    status: 'claimed',
    messageId: `<${definition.name}.${contact.id}@${d.prepared.domain}>`,
    attempts: (existing?.entry.attempts ?? 0) + 1,
    claimedAt: now.toISOString(),
  };
  const ledger = ledgerOf(deps);
  const version = existing
    ? await ledger.reclaim(definition.name, entry, existing.version)
    : await ledger.claim(definition.name, entry);
  if (version === undefined) return undefined; // another run holds this recipient
  const outcome = async (status: LedgerEntry['status'], more: Partial<LedgerEntry> = {}) => {
    await ledger.record(definition.name, { ...entry, ...more, status }, version);
    return status;
  };
  const deferred = async () => {
    const status = await outcome('deferred');
    tally.deferred++;
    return status;
  };

  // Unsubscribed since the audience was resolved: from the lists that reached them, or all.
  const suppression = await d.suppressionOf(contact.id);
  const via = (contact.via ?? audienceLists(definition.audience)).filter(
    (l) => !isSuppressed(suppression, l),
  );
  if (via.length === 0) {
    const status = await outcome('skipped', { skippedReason: 'suppressed' });
    tally.skipped++;
    tally.settled++;
    return status;
  }

  const message = await messageFor(d.prepared, { ...contact, via }, deps, now);
  let throttles = 0;
  let transient = 0;
  for (;;) {
    // The call starts in the slot itself: the provider sees the starts as counted. The
    // promise is wrapped so that the slot does not wait for the send.
    const call = await d.waitForSlot(() => {
      if (d.stopped()) return undefined;
      try {
        return {
          sending: deps.mailer.send({
            raw: message.raw,
            messageId: message.messageId,
            from: definition.from.address,
            to: contact.email,
            campaign: definition.name,
          }),
        };
      } catch (error) {
        return { sending: Promise.reject(error) };
      }
    });
    // Paused or interrupted while waiting: not sent, so not uncertain; the next run sends it.
    if (call === undefined) return deferred();
    let result: SendResult;
    try {
      result = await call.sending;
    } catch (error) {
      if (error instanceof QuotaExhaustedError && d.quotaExhausted) {
        // Not sent: pending, for the campaign's next quota window.
        d.quotaExhausted(error.message);
        return deferred();
      }
      if (error instanceof SendingHaltedError) {
        // The account or its configuration refuses everything: no recipient is to blame.
        d.halt(`${error.message}. Paused, nobody counted as failed: fix it, then ${d.resume}.`);
        return deferred();
      }
      if (error instanceof ThrottledError) {
        tally.throttled++;
        if (throttles < d.maxThrottleRetries && !d.stopped()) {
          throttles++;
          await sleep(backoff(throttles, random));
          continue;
        }
        // Still throttled, or stopping: left for the next run. Throttling is never a failure.
        return deferred();
      }
      if (!(error instanceof PermanentSendError) && ++transient < d.maxAttempts && !d.stopped()) {
        await sleep(backoff(transient, random));
        continue;
      }
      const failure =
        error instanceof PermanentSendError
          ? { kind: 'permanent' as const, reason: error.reason, message: error.message }
          : { kind: 'transient' as const, reason: 'error', message: (error as Error).message };
      const status = await outcome('failed', { error: failure });
      tally.failed++;
      if (failure.kind === 'permanent') tally.settled++;
      tally.attempted++;
      // The same transient error for many recipients in a row is the provider's, not theirs.
      const signature = failure.kind === 'transient' ? transientSignature(error) : undefined;
      if (signature !== undefined && signature === tally.lastTransient) tally.sameTransient++;
      else tally.sameTransient = signature === undefined ? 0 : 1;
      tally.lastTransient = signature;
      if (tally.sameTransient >= d.maxSameTransient) {
        d.halt(
          `${tally.sameTransient} recipients in a row failed with the same error (${failure.message}): the provider seems unavailable. Paused: check it, then ${d.resume} (these recipients are tried again).`,
        );
      }
      if (d.budget && tally.attempted >= d.budget.after && tally.failed / tally.attempted > d.budget.ratio) {
        d.halt(budgetExceeded(tally, d.budget.ratio, definition.name, d.resume));
      }
      if (failure.kind === 'permanent') await d.counted?.('failed');
      return status;
    }
    // Sent. Recording it is outside the retry: a store error here must never send again.
    // If it fails, the claim stays and the recipient shows as uncertain, not as unsent.
    const status = await outcome('sent', {
      sentAt: clock().toISOString(),
      providerMessageId: result.providerMessageId,
      mailer: deps.mailer.name,
      ...(result.reply !== undefined && { reply: result.reply }),
    });
    tally.sameTransient = 0;
    tally.lastTransient = undefined;
    tally.sent++;
    tally.settled++;
    tally.attempted++;
    await d.counted?.('sent');
    return status;
  }
}

/** The pause reason of an error budget spent: `failed` of `attempted` sends, over `ratio`. */
export function budgetExceeded(
  count: { failed: number; attempted: number },
  ratio: number,
  campaign: string,
  resume: string,
): string {
  return `${count.failed} of ${count.attempted} sends failed (more than ${Math.round(ratio * 100)}%): paused. Check \`pressroom campaign status ${campaign}\`, fix the cause (the failed addresses and reasons), then ${resume}.`;
}

/** Exponential back-off with full jitter: 100 ms, 200 ms, ... up to 10 s. */
function backoff(attempt: number, random: () => number): number {
  return Math.round(random() * Math.min(10_000, 100 * 2 ** (attempt - 1)));
}

/**
 * Changes this run's entry in the campaign record (and, optionally, the record itself),
 * unless the run was already closed, e.g. taken over by a scheduler.
 */
function updateThisRun(
  store: ObjectStore,
  definition: CampaignDefinition,
  startedAt: string,
  changeRun: (run: CampaignRecord['runs'][number]) => CampaignRecord['runs'][number],
  changeRecord: (record: CampaignRecord) => CampaignRecord = (record) => record,
): Promise<CampaignRecord> {
  return updateCampaign(
    store,
    definition.name,
    () => newCampaignRecord(definition, '', startedAt),
    (current) => {
      const runs = current.runs.map((run) =>
        run.startedAt === startedAt && !run.endedAt ? changeRun(run) : run,
      );
      return changeRecord({ ...current, runs });
    },
  );
}
