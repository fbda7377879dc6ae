import type { AlertFrequency } from '../alerts/topics.ts';
import type { Mailer } from '../campaigns/mailer.ts';
import {
  ExpiredTrackingTokenError,
  recordTrackingEvent,
  type TrackingToken,
  trackingPaths,
  verifyTrackingToken,
} from '../campaigns/tracking.ts';
import { applyUnsubscribe } from '../contacts/feedback.ts';
import { type ContactKeys, shardOf } from '../contacts/model.ts';
import { readContactShard } from '../contacts/repository.ts';
import {
  type ConfirmOutcome,
  checkSubscriptionRequest,
  confirmationTtlHours,
  confirmSubscription,
  type RequestOutcome,
  requestSubscription,
  SubscriptionUnavailableError,
} from '../contacts/subscription.ts';
import {
  type SubscribableList,
  type SubscribableLists,
  subscribableList,
} from '../contacts/subscription-lists.ts';
import { InvalidTokenError, type UnsubscribeToken, verifyUnsubscribeToken } from '../contacts/tokens.ts';
import { languageNamed } from '../publication/languages.ts';
import type { Language } from '../publication/schema.ts';
import { fillPattern } from '../render/locale.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { advanceCopy, isAdvancePath } from './advance.ts';
import {
  acceptedLanguage,
  bodyText,
  json,
  type PublicRequest,
  type PublicResponse,
  page,
  pathParameter,
  plain,
} from './http.ts';
import { answerProof, proofPath } from './proof-page.ts';

export type { PublicRequest, PublicResponse } from './http.ts';

/**
 * The public endpoint: what recipients and visitors reach from a message or a web page.
 * One framework-agnostic function; the local server and the Lambda Function URL handler are
 * thin adapters over it (HTTP ↔ PublicRequest/PublicResponse).
 *
 *   /unsubscribe/<token>          GET: a page with a button; POST List-Unsubscribe=One-Click (RFC 8058)
 *   /subscribe                    GET: a form; POST: ask for a subscription (form or JSON); OPTIONS: CORS
 *   /subscribe/confirm/<token>    GET: a page with a button; POST confirm=yes: confirm
 *   /proof/<token>[/email|/page|/pdf]   GET: a campaign's proof (proof-page.ts)
 *   /advance/<token>[/pdf]        GET: a journalist's advance copy of a release (advance.ts)
 *   /o/<token>.gif, /c/<token>    GET: an open (a 1×1 image) or a click (a redirect), recorded
 *                                 for campaigns that track them (campaigns/tracking.ts)
 *
 * GET never changes anything, so link scanners that open every URL of a message neither
 * unsubscribe nor subscribe anyone; it only records opens and clicks, which scanners inflate.
 */
export interface PublicEndpointDeps {
  store: ObjectStore;
  keys: ContactKeys;
  templates: TemplateSet;
  /** Sends subscription confirmations. */
  mailer: Mailer;
  settings: PublicSettings;
  clock?: () => Date;
  /** Told when the hourly cap on confirmation emails turns a request away: counts, never an address. */
  onCapped?: (cap: { limit: number; retryAfterSeconds: number }) => void;
}

export interface PublicSettings {
  /** Base URL of the links this endpoint hands out, e.g. https://press.example.org */
  publicUrl: string;
  /** Language of pages when neither the request nor the list tells. */
  lang: Language;
  /** The lists open to subscription (`lists.yaml`); none when empty. */
  lists: SubscribableLists;
  /**
   * The titles of every declared list, closed ones too (pressroom.yaml's `lists`), by name: what
   * the unsubscribe page calls a list. An open list's title is in `lists`; a list named nowhere
   * is shown by its name.
   */
  listTitles?: Record<string, Record<Language, string>>;
  /** Mailbox of the mailto: unsubscribe in confirmation emails; default the list's reply-to or sender. */
  unsubscribeMailbox?: string;
  /** At most this many confirmation emails in all per hour (default `defaultConfirmationsPerHour`). */
  confirmationsPerHour?: number;
  /** The zone the proof pages show times in (default UTC). */
  timeZone?: string;
}

export const publicPaths = {
  unsubscribe: '/unsubscribe/',
  subscribe: '/subscribe',
  confirm: '/subscribe/confirm/',
  proof: proofPath,
} as const;

/** The form field that people leave empty and bots fill. */
export const honeypotField = 'website';

/** Whether the endpoint answers this path (the local server serves the press room otherwise). */
export function isPublicPath(path: string): boolean {
  return (
    path === publicPaths.subscribe ||
    path.startsWith(`${publicPaths.subscribe}/`) ||
    path.startsWith(publicPaths.unsubscribe) ||
    path.startsWith(publicPaths.proof) ||
    isAdvancePath(path) ||
    path.startsWith(trackingPaths.open) ||
    path.startsWith(trackingPaths.click)
  );
}

export async function handlePublicRequest(
  request: PublicRequest,
  deps: PublicEndpointDeps,
): Promise<PublicResponse> {
  const method = request.method.toUpperCase();
  let response: PublicResponse;
  if (request.path.startsWith(publicPaths.unsubscribe)) response = await unsubscribe(request, method, deps);
  else if (request.path === publicPaths.subscribe || request.path === `${publicPaths.subscribe}/`)
    response = await subscribe(request, method, deps);
  else if (request.path.startsWith(publicPaths.confirm)) response = await confirm(request, method, deps);
  else if (request.path.startsWith(publicPaths.proof)) {
    response = await answerProof(request.path, method, {
      store: deps.store,
      keys: deps.keys,
      templates: deps.templates,
      lang: fallbackLanguage(request, deps),
      ...(deps.settings.timeZone && { timeZone: deps.settings.timeZone }),
      now: now(deps),
    });
  } else if (isAdvancePath(request.path)) {
    response = await advanceCopy(request, method, {
      ...deps,
      now: now(deps),
      lang: fallbackLanguage(request, deps),
    });
  } else if (request.path.startsWith(trackingPaths.open) || request.path.startsWith(trackingPaths.click)) {
    response = await track(request, method, deps);
  } else {
    const t = deps.templates.locales[fallbackLanguage(request, deps)];
    response = page(deps.templates, 404, fallbackLanguage(request, deps), {
      title: t.notFoundTitle,
      text: t.notFoundText,
    });
  }
  return method === 'HEAD' ? { ...response, body: '', isBase64Encoded: false } : response;
}

const now = (deps: PublicEndpointDeps) => (deps.clock ?? (() => new Date()))();

function fallbackLanguage(request: PublicRequest, deps: PublicEndpointDeps): Language {
  return acceptedLanguage(request.headers['accept-language']) ?? deps.settings.lang;
}

function methodNotAllowed(allow: string): PublicResponse {
  return plain(405, 'Method not allowed\n', { allow });
}

/* ---------------------------------------------------------------- unsubscribe */

async function unsubscribe(
  request: PublicRequest,
  method: string,
  deps: PublicEndpointDeps,
): Promise<PublicResponse> {
  const { templates, keys } = deps;
  const token = pathParameter(request.path, publicPaths.unsubscribe);
  let payload: UnsubscribeToken;
  try {
    if (token === undefined) throw new InvalidTokenError('malformed escapes');
    payload = verifyUnsubscribeToken(keys, token);
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    const lang = fallbackLanguage(request, deps);
    const t = templates.locales[lang];
    return page(templates, 400, lang, { title: t.invalidLinkTitle, text: t.invalidLinkText });
  }
  const lang = (await contactLanguage(deps.store, payload.contact)) ?? deps.settings.lang;
  const t = templates.locales[lang];
  const lists = (payload.lists ?? [payload.list])
    .map((name) => listTitle(deps.settings, name, lang))
    .join(', ');
  if (method === 'GET' || method === 'HEAD') {
    return page(templates, 200, lang, {
      title: t.unsubscribeTitle,
      text: fillPattern(t.unsubscribeQuestion, { list: lists }),
      action: { button: t.unsubscribeButton, fields: [{ name: 'List-Unsubscribe', value: 'One-Click' }] },
    });
  }
  if (method !== 'POST') return methodNotAllowed('GET, HEAD, POST');
  const body = bodyText(request) ?? '';
  if (!/List-Unsubscribe/i.test(body) || !/One-Click/i.test(body)) {
    return plain(400, 'Expected the body List-Unsubscribe=One-Click (RFC 8058)\n');
  }
  await applyUnsubscribe(deps.store, keys, token as string, now(deps));
  // The page's button comes from a browser; mail clients' one-click POSTs get plain text.
  if (/text\/html/.test(request.headers.accept ?? '')) {
    return page(templates, 200, lang, {
      title: t.unsubscribedTitle,
      text: fillPattern(t.unsubscribedText, { list: lists }),
    });
  }
  return plain(200, 'Unsubscribed.\n');
}

/** A list as people know it: its title in `lang`, else its name. */
function listTitle(settings: PublicSettings, name: string, lang: Language): string {
  const declared =
    settings.listTitles && Object.hasOwn(settings.listTitles, name) ? settings.listTitles[name] : undefined;
  return subscribableList(settings.lists, name)?.title[lang] ?? declared?.[lang] ?? name;
}

async function contactLanguage(store: ObjectStore, contactId: string): Promise<Language | undefined> {
  const shard = await readContactShard(store, shardOf(contactId));
  return languageNamed(shard.contacts[contactId]?.language);
}

/* ---------------------------------------------------------------- subscribe */

/** A form can be posted from any site, so a script may post too: CORS adds no exposure. */
const cors = { 'access-control-allow-origin': '*' };

async function subscribe(
  request: PublicRequest,
  method: string,
  deps: PublicEndpointDeps,
): Promise<PublicResponse> {
  if (method === 'OPTIONS') {
    return {
      status: 204,
      headers: {
        ...cors,
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-allow-headers': 'content-type, accept, accept-language',
        'access-control-max-age': '86400',
      },
      body: '',
    };
  }
  if (method === 'GET' || method === 'HEAD') return subscribeForm(request, deps);
  if (method !== 'POST') return methodNotAllowed('GET, HEAD, POST, OPTIONS');

  const contentType = (request.headers['content-type'] ?? '').toLowerCase();
  const asJson = contentType.includes('application/json');
  const wantsJson =
    asJson ||
    (/application\/json/.test(request.headers.accept ?? '') &&
      !/text\/html/.test(request.headers.accept ?? ''));
  const text = bodyText(request);
  if (text === undefined) return plain(413, 'Request body too large\n', cors);
  const fields = readFields(text, contentType);
  if (fields === undefined) {
    return plain(
      asJson ? 400 : 415,
      asJson
        ? 'The body is not a JSON object of text fields\n'
        : 'Send the form as application/x-www-form-urlencoded or application/json\n',
      cors,
    );
  }
  const firstName = fields.firstName ?? fields.name;
  const topics = readTopics(text, contentType);
  if (topics === undefined)
    return plain(400, 'topics must be a list of topic names, e.g. "topics": ["numerique"]\n', cors);
  const input = {
    email: fields.email ?? '',
    list: fields.list ?? '',
    ...(firstName && { firstName }),
    ...(fields.lastName && { lastName: fields.lastName }),
    ...(topics.length > 0 && { topics }),
    ...(fields.frequency && { frequency: fields.frequency }),
  };
  const named = subscribableList(deps.settings.lists, input.list);
  const lang =
    languageNamed(fields.lang) ??
    named?.lang ??
    acceptedLanguage(request.headers['accept-language']) ??
    deps.settings.lang;

  let outcome: RequestOutcome;
  const checked = checkSubscriptionRequest(input, deps.settings.lists);
  if (!('ok' in checked)) outcome = checked;
  else if (fields[honeypotField]) {
    // A bot: the same answer as anyone gets, and nothing done.
    outcome = { outcome: 'accepted', list: checked.list, detail: 'blocked' };
  } else {
    try {
      outcome = await requestSubscription(
        { ...input, lang, ...(request.sourceIp && { sourceIp: request.sourceIp }) },
        {
          ...deps,
          lists: deps.settings.lists,
          publicUrl: deps.settings.publicUrl,
          ...(deps.settings.unsubscribeMailbox && { unsubscribeMailbox: deps.settings.unsubscribeMailbox }),
          ...(deps.settings.confirmationsPerHour !== undefined && {
            confirmationsPerHour: deps.settings.confirmationsPerHour,
          }),
        },
      );
      if (outcome.outcome === 'capped')
        deps.onCapped?.({ limit: outcome.limit, retryAfterSeconds: outcome.retryAfterSeconds });
    } catch (error) {
      if (!(error instanceof SubscriptionUnavailableError)) throw error;
      return unavailable(deps, lang, wantsJson, 300);
    }
  }
  if (outcome.outcome === 'capped') return unavailable(deps, lang, wantsJson, outcome.retryAfterSeconds);
  // A name sent as `name` is reported under that name.
  if (outcome.outcome === 'invalid-field' && outcome.field === 'firstName' && !fields.firstName)
    outcome = { ...outcome, field: 'name' };
  return subscribeAnswer(outcome, input, lang, wantsJson, deps);
}

/** 503 with Retry-After: nothing was mailed, the person may try again later. */
function unavailable(
  deps: PublicEndpointDeps,
  lang: Language,
  wantsJson: boolean,
  retryAfterSeconds: number,
): PublicResponse {
  const t = deps.templates.locales[lang];
  const retry = { ...cors, 'retry-after': String(retryAfterSeconds) };
  return wantsJson
    ? json(503, { error: 'unavailable', message: t.subscribeUnavailableText }, retry)
    : page(
        deps.templates,
        503,
        lang,
        { title: t.subscribeUnavailableTitle, text: t.subscribeUnavailableText },
        retry,
      );
}

/** Form fields as text; undefined when the body cannot be read as such. */
function readFields(text: string, contentType: string): Record<string, string | undefined> | undefined {
  if (contentType.includes('application/json')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const fields: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') fields[k] = v.trim() || undefined;
    return fields;
  }
  if (contentType && !contentType.includes('application/x-www-form-urlencoded')) return undefined;
  const fields: Record<string, string | undefined> = {};
  for (const [k, v] of new URLSearchParams(text)) fields[k] ??= v.trim() || undefined;
  return fields;
}

/**
 * The topics a request picks: every `topic` field of a form (one per ticked checkbox), or a
 * JSON body's `topics` (an array of texts). Undefined when `topics` is not such an array.
 */
function readTopics(text: string, contentType: string): string[] | undefined {
  if (contentType.includes('application/json')) {
    const topics = (JSON.parse(text) as { topics?: unknown }).topics;
    if (topics === undefined) return [];
    if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) return undefined;
    return topics.map((t) => t.trim()).filter(Boolean);
  }
  return new URLSearchParams(text)
    .getAll('topic')
    .map((t) => t.trim())
    .filter(Boolean);
}

function subscribeAnswer(
  outcome: Exclude<RequestOutcome, { outcome: 'capped' }>,
  input: { email: string; list: string },
  lang: Language,
  wantsJson: boolean,
  deps: PublicEndpointDeps,
): PublicResponse {
  const t = deps.templates.locales[lang];
  const shown = (value: string) => (value.length > 100 ? `${value.slice(0, 99)}…` : value);
  let status: number;
  let error: string | undefined;
  let title: string;
  let text: string;
  const headers: Record<string, string> = { ...cors };
  switch (outcome.outcome) {
    case 'invalid-email':
      [status, error, title] = [400, 'invalid-email', t.subscribeInvalidEmailTitle];
      text = fillPattern(t.subscribeInvalidEmailText, { value: shown(input.email) });
      break;
    case 'invalid-field':
      [status, error, title] = [400, 'invalid-field', t.subscribeInvalidFieldTitle];
      text = fillPattern(t.subscribeInvalidFieldText, { field: outcome.field, max: String(outcome.max) });
      break;
    case 'unknown-list':
      [status, error, title] = [400, 'unknown-list', t.subscribeUnknownListTitle];
      text = fillPattern(t.subscribeUnknownListText, { value: shown(input.list) });
      break;
    case 'unknown-topic':
      [status, error, title] = [400, 'unknown-topic', t.subscribeUnknownTopicTitle];
      text = fillPattern(t.subscribeUnknownTopicText, {
        value: shown(outcome.value),
        list: outcome.list.title[lang],
      });
      break;
    case 'unknown-frequency':
      [status, error, title] = [400, 'unknown-frequency', t.subscribeInvalidFieldTitle];
      text = fillPattern(t.subscribeUnknownFrequencyText, {
        value: shown(outcome.value),
        list: outcome.list.title[lang],
      });
      break;
    case 'no-topic':
      [status, error, title] = [400, 'no-topic', t.subscribeInvalidFieldTitle];
      text = fillPattern(t.subscribeNoTopicText, { list: outcome.list.title[lang] });
      break;
    case 'source-limited':
      [status, error, title] = [429, 'too-many-requests', t.subscribeTooManyTitle];
      text = t.subscribeTooManyText;
      headers['retry-after'] = '3600';
      break;
    case 'accepted':
      [status, title] = [200, t.subscribeCheckMailTitle];
      text = fillPattern(t.subscribeCheckMailText, {
        list: outcome.list.title[lang],
        hours: String(confirmationTtlHours),
      });
      break;
  }
  if (wantsJson)
    return json(status, error ? { error, message: text } : { status: 'pending', message: text }, headers);
  return page(deps.templates, status, lang, { title, text }, headers);
}

function subscribeForm(request: PublicRequest, deps: PublicEndpointDeps): PublicResponse {
  const lists = Object.values(deps.settings.lists);
  const asked = request.query?.list;
  const chosen = asked
    ? subscribableList(deps.settings.lists, asked)
    : lists.length === 1
      ? lists[0]
      : undefined;
  const lang =
    languageNamed(request.query?.lang) ??
    chosen?.lang ??
    acceptedLanguage(request.headers['accept-language']) ??
    deps.settings.lang;
  const t = deps.templates.locales[lang];
  if ((asked && !chosen) || lists.length === 0) {
    return page(deps.templates, 404, lang, {
      title: t.subscribeUnknownListTitle,
      text: fillPattern(t.subscribeUnknownListText, { value: asked ?? '' }),
    });
  }
  return page(deps.templates, 200, lang, {
    title: t.subscribeTitle,
    ...(chosen && { text: fillPattern(t.subscribeIntro, { list: chosen.title[lang] }) }),
    form: {
      ...(chosen && { single: { name: chosen.name } }),
      lists: lists.map((l) => ({ name: l.name, title: l.title[lang] })),
      listLabel: t.subscribeListLabel,
      emailLabel: t.subscribeEmailLabel,
      nameLabel: t.subscribeNameLabel,
      // An alert list's topics, ticked one by one; the form of another list has none.
      ...(chosen?.topics && {
        topics: {
          legend: t.subscribeTopicsLegend,
          hint: t.subscribeTopicsHint,
          options: chosen.topics.map((topic) => ({ tag: topic.tag, label: topic.label[lang] })),
        },
      }),
      // A choice of frequencies only when there is one to make; the first is ticked.
      ...(chosen?.frequencies &&
        chosen.frequencies.length > 1 && {
          frequencies: {
            legend: t.subscribeFrequencyLegend,
            options: chosen.frequencies.map((value, i) => ({
              value,
              label: frequencyLabel(t, value),
              checked: i === 0,
            })),
          },
        }),
      honeypot: honeypotField,
      honeypotLabel: t.subscribeHoneypotLabel,
      button: t.subscribeButton,
    },
  });
}

/* ---------------------------------------------------------------- confirm */

async function confirm(
  request: PublicRequest,
  method: string,
  deps: PublicEndpointDeps,
): Promise<PublicResponse> {
  const reading = method === 'GET' || method === 'HEAD';
  if (!reading && method !== 'POST') return methodNotAllowed('GET, HEAD, POST');
  const token = pathParameter(request.path, publicPaths.confirm);
  if (!reading && !/(^|&)confirm=yes(&|$)/.test(bodyText(request) ?? ''))
    return plain(400, 'Expected the body confirm=yes (the button of the confirmation page)\n');
  const outcome: ConfirmOutcome =
    token === undefined
      ? { outcome: 'invalid' }
      : await confirmSubscription(token, { ...deps, lists: deps.settings.lists }, { apply: !reading });
  const lang = ('lang' in outcome && outcome.lang) || fallbackLanguage(request, deps);
  const t = deps.templates.locales[lang];
  const show = (status: number, view: Parameters<typeof page>[3]) => page(deps.templates, status, lang, view);
  switch (outcome.outcome) {
    case 'invalid':
      return show(400, { title: t.invalidLinkTitle, text: t.confirmInvalidText });
    case 'unknown-list':
      return show(404, {
        title: t.subscribeUnknownListTitle,
        text: fillPattern(t.subscribeUnknownListText, { value: outcome.name }),
      });
    case 'expired':
      return show(410, { title: t.confirmExpiredTitle, text: t.confirmExpiredText });
    case 'blocked':
      return show(403, {
        title: t.confirmBlockedTitle,
        text: fillPattern(t.confirmBlockedText, {
          list: outcome.list.title[lang],
          contact: outcome.list.replyTo ?? outcome.list.from.address,
        }),
      });
    case 'ask':
      return show(200, {
        title: t.confirmTitle,
        text: fillPattern(t.confirmQuestion, { list: outcome.list.title[lang] }),
        ...((outcome.name || outcome.topics) && {
          details: [
            ...(outcome.name ? [{ label: t.confirmName, value: outcome.name }] : []),
            // What the person is about to confirm: the topics they picked, as the form named them.
            ...(outcome.topics
              ? [{ label: t.subscribeTopicsLegend, value: topicLabels(outcome.list, outcome.topics, lang) }]
              : []),
            ...(outcome.frequency && (outcome.list.frequencies?.length ?? 0) > 1
              ? [{ label: t.subscribeFrequencyLegend, value: frequencyLabel(t, outcome.frequency) }]
              : []),
          ],
        }),
        action: { button: t.confirmButton, fields: [{ name: 'confirm', value: 'yes' }] },
      });
    case 'already':
    case 'confirmed':
      return show(200, {
        title: t.confirmedTitle,
        text: fillPattern(t.confirmedText, { list: outcome.list.title[lang] }),
      });
  }
}

/** A frequency as the form names it. */
function frequencyLabel(t: TemplateSet['locales'][Language], frequency: AlertFrequency): string {
  if (frequency === 'daily') return t.subscribeFrequencyDaily;
  if (frequency === 'weekly') return t.subscribeFrequencyWeekly;
  return t.subscribeFrequencyImmediate;
}

/** The labels of topics of an alert list, in `lang`, as one text. */
function topicLabels(list: SubscribableList, topics: string[], lang: Language): string {
  return topics.map((tag) => list.topics?.find((t) => t.tag === tag)?.label[lang] ?? tag).join(', ');
}

/* ---------------------------------------------------------------- opens and clicks */

/** A transparent 1×1 GIF. */
const pixel = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/**
 * An open (`/o/<token>.gif`: the image) or a click (`/c/<token>`: a redirect to the link the
 * token names, which we signed). Recorded on GET while the token is current; an expired click
 * still redirects, recording nothing. HEAD (link checkers) records nothing. A token we did
 * not sign gets 404, for both.
 */
async function track(
  request: PublicRequest,
  method: string,
  deps: PublicEndpointDeps,
): Promise<PublicResponse> {
  if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET, HEAD');
  const opening = request.path.startsWith(trackingPaths.open);
  const raw = pathParameter(request.path, opening ? trackingPaths.open : trackingPaths.click);
  let token: TrackingToken | undefined;
  let current = true;
  try {
    if (raw === undefined) throw new InvalidTokenError('malformed escapes');
    token = verifyTrackingToken(deps.keys, opening ? raw.replace(/\.gif$/, '') : raw, now(deps));
  } catch (error) {
    if (error instanceof ExpiredTrackingTokenError) {
      token = error.token;
      current = false;
    } else if (!(error instanceof InvalidTokenError)) throw error;
  }
  if (!token || token.kind !== (opening ? 'open' : 'click')) return plain(404, 'Not found\n');
  if (current && method === 'GET') await recordTrackingEvent(deps.store, token, now(deps));
  if (opening) {
    return {
      status: 200,
      headers: {
        'content-type': 'image/gif',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
      body: pixel,
      isBase64Encoded: true,
    };
  }
  return plain(302, 'Found\n', { location: token.url as string });
}
