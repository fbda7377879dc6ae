import type { AlertFrequency, AlertTopic } from '../alerts/topics.ts';
import {
  alertTopics,
  listNameProblems,
  type SubscribableList,
  type SubscribableLists,
  titleInEachLanguage,
} from '../contacts/subscription-lists.ts';
import { InvalidInputError, type Problem } from '../errors.ts';
import { parseYaml, validate } from '../input.ts';
import type { Language } from '../publication/schema.ts';
import { type WorkspaceFile, workspaceFileSchema } from './schema.ts';

/** A sender as campaigns and confirmations use it. */
export interface Sender {
  name: string;
  address: string;
}

/** A list declared in pressroom.yaml, its title filled in. */
export interface WorkspaceList {
  name: string;
  title: Record<Language, string>;
  /** Undefined: the workspace's language. */
  lang?: Language;
  press: boolean;
  subscription: 'open' | 'closed';
  from?: Sender;
  replyTo?: string;
  /** An alert list's topics (open lists only); absent: no topic alerts on this list. */
  topics?: AlertTopic[];
  /** An alert list's frequencies on offer (the first the default); absent: immediate only. */
  frequencies?: AlertFrequency[];
  /** Where the list is written, for messages. */
  line?: number;
}

/** How mail leaves, as pressroom.yaml says it (the SMTP password is never in the file). */
export type MailerSettings =
  | { kind: 'outbox' }
  | { kind: 'smtp'; host?: string; port?: number; secure?: boolean; requireTls?: boolean; user?: string }
  | { kind: 'ses'; configurationSet?: string };

/** pressroom.yaml, checked and normalised. Every key but organizations and lists may be absent. */
export interface WorkspaceSettings {
  /** The file, as named in messages. */
  file: string;
  name?: string;
  language?: Language;
  timeZone?: string;
  publicUrl?: string;
  siteUrl?: string;
  siteTitle?: string;
  lateFireWindowMinutes?: number;
  sender?: Sender;
  replyTo?: string;
  organizations: string[];
  lists: Record<string, WorkspaceList>;
  /** As written: relative to the file's folder, or absolute. */
  store?: string;
  mailer?: MailerSettings;
}

/**
 * Reads and checks pressroom.yaml; every problem is reported with its line, all at once.
 * `organizationExists` tells whether `organizations/<id>.yaml` is there (the caller looks).
 */
export function parseWorkspaceFile(
  source: string,
  file: string,
  options: { organizationExists?: (id: string) => boolean } = {},
): WorkspaceSettings {
  const parsed = parseYaml(source, file);
  const checked = validate(workspaceFileSchema, parsed);
  const problems: Problem[] = [
    ...listNameProblems(parsed),
    // A password written in the file is never echoed back, even in an error.
    ...(checked.ok
      ? []
      : checked.problems.map(({ value, ...p }) => (p.path.endsWith('password') ? p : { ...p, value }))),
  ];
  if (checked.ok) {
    const ids = checked.value.organizations ?? [];
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) {
        problems.push({
          file,
          ...parsed.locate(['organizations', i]),
          path: `organizations[${i}]`,
          message: 'is listed twice',
          value: id,
        });
      } else if (options.organizationExists && !options.organizationExists(id)) {
        problems.push({
          file,
          ...parsed.locate(['organizations', i]),
          path: `organizations[${i}]`,
          message: `no file organizations/${id}.yaml next to ${file}: create it (see schemas/organization.schema.json), or remove the id`,
          value: id,
        });
      }
    });
  }
  if (checked.ok) {
    for (const [name, l] of Object.entries(checked.value.lists ?? {})) {
      if (l?.frequencies !== undefined && l.topics === undefined)
        problems.push({
          file,
          ...parsed.locateKey(['lists', name], 'frequencies'),
          path: `lists.${name}.frequencies`,
          message: 'frequencies are those of topic alerts: give the list topics too, or remove frequencies',
        });
      if (l?.frequencies?.some((f) => f !== 'immediate') && (checked.value.organizations ?? []).length === 0)
        problems.push({
          file,
          ...parsed.locateKey(['lists', name], 'frequencies'),
          path: `lists.${name}.frequencies`,
          message:
            'a digest is a newsletter issue published by the workspace: name its organisation under "organizations" (organizations/<id>.yaml), or offer immediate alerts only',
        });
      if (l?.topics === undefined || l.subscription === 'open') continue;
      problems.push({
        file,
        ...parsed.locateKey(['lists', name], 'topics'),
        path: `lists.${name}.topics`,
        message:
          'topics are picked by subscribers on the public form, so only an open list offers them: add "subscription: open" to this list, or remove topics',
      });
    }
  }
  if (!checked.ok || problems.length > 0) throw new InvalidInputError(problems);
  const w: WorkspaceFile = checked.value;
  const lists: Record<string, WorkspaceList> = {};
  for (const [name, given] of Object.entries(w.lists ?? {})) {
    const l = given ?? { press: false, subscription: 'closed' as const };
    const line = parsed.locateKey(['lists'], name)?.line;
    lists[name] = {
      name,
      title: titleInEachLanguage(l.title ?? name),
      ...(l.lang !== undefined && { lang: l.lang }),
      press: l.press,
      subscription: l.subscription,
      ...(l.from !== undefined && { from: l.from }),
      ...(l.replyTo !== undefined && { replyTo: l.replyTo }),
      ...(l.topics !== undefined && { topics: alertTopics(l.topics) }),
      ...(l.frequencies !== undefined && { frequencies: l.frequencies }),
      ...(line !== undefined && { line }),
    };
  }
  return {
    file,
    ...(w.name !== undefined && { name: w.name }),
    ...(w.language !== undefined && { language: w.language }),
    ...(w.timeZone !== undefined && { timeZone: w.timeZone }),
    ...(w.publicUrl !== undefined && { publicUrl: w.publicUrl }),
    ...(w.siteUrl !== undefined && { siteUrl: w.siteUrl }),
    ...(w.siteTitle !== undefined && { siteTitle: w.siteTitle }),
    ...(w.lateFireWindowMinutes !== undefined && { lateFireWindowMinutes: w.lateFireWindowMinutes }),
    ...(w.sender !== undefined && { sender: w.sender }),
    ...(w.replyTo !== undefined && { replyTo: w.replyTo }),
    organizations: w.organizations ?? [],
    lists,
    ...(w.store !== undefined && { store: w.store }),
    ...(w.mailer !== undefined && { mailer: mailerSettings(w.mailer) }),
  };
}

function mailerSettings(m: NonNullable<WorkspaceFile['mailer']>): MailerSettings {
  if (typeof m === 'string') return { kind: m };
  if (m.kind === 'smtp') {
    return {
      kind: 'smtp',
      ...(m.host !== undefined && { host: m.host }),
      ...(m.port !== undefined && { port: m.port }),
      ...(m.secure !== undefined && { secure: m.secure }),
      ...(m.starttls !== undefined && { requireTls: m.starttls }),
      ...(m.user !== undefined && { user: m.user }),
    };
  }
  if (m.kind === 'ses')
    return { kind: 'ses', ...(m.configurationSet !== undefined && { configurationSet: m.configurationSet }) };
  return { kind: 'outbox' };
}

/**
 * The lists open to subscription (`subscription: open`), their language, sender and reply
 * address filled from the workspace's. An open list needs a sender for its confirmations.
 */
export function openLists(
  lists: Record<string, WorkspaceList>,
  defaults: { lang: Language; sender?: Sender; replyTo?: string; file: string },
): SubscribableLists {
  const open: Record<string, SubscribableList> = {};
  const problems: Problem[] = [];
  for (const l of Object.values(lists)) {
    if (l.subscription !== 'open') continue;
    const from = l.from ?? defaults.sender;
    const replyTo = l.replyTo ?? defaults.replyTo;
    if (!from) {
      problems.push({
        file: defaults.file,
        ...(l.line !== undefined && { line: l.line }),
        path: `lists.${l.name}`,
        message:
          'an open list needs a sender for its confirmation emails: give it "from", or set "sender" at the top of the file (or PRESSROOM_SENDER)',
      });
      continue;
    }
    open[l.name] = {
      name: l.name,
      title: l.title,
      lang: l.lang ?? defaults.lang,
      from,
      ...(replyTo !== undefined && { replyTo }),
      ...(l.topics !== undefined && { topics: l.topics }),
      ...(l.frequencies !== undefined && { frequencies: l.frequencies }),
    };
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return open;
}
