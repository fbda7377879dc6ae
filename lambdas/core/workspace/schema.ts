import path from 'node:path';
import * as z from 'zod';
import { sender } from '../campaigns/campaign.ts';
import { isTimeZone } from '../campaigns/time.ts';
import { listFrequencies, listTitle, listTopics } from '../contacts/subscription-lists.ts';
import { email, language, slug } from '../publication/schema.ts';

/**
 * `pressroom.yaml`, the file that makes a folder a workspace (docs/workspace.md): who
 * publishes, where the press room lives, who sends, in which zone and language, the lists,
 * where the store is and how mail leaves. A user-facing contract: `schemas/workspace.schema.json`
 * is generated from this schema. Nothing secret belongs here (the signing secret and the SMTP
 * password come from the environment).
 */

const text = z.string().trim().min(1, 'must not be empty');

const url = z
  .url({
    protocol: /^https?$/,
    error: 'must be an absolute http:// or https:// URL, e.g. "https://presse.example.org"',
  })
  .describe('An absolute http:// or https:// URL');

export const mailerKinds = ['outbox', 'smtp', 'ses'] as const;
const mailerKind = z.enum(mailerKinds, { error: 'must be outbox, smtp or ses' });

const smtpOnly = ['host', 'port', 'secure', 'starttls', 'user'] as const;

const mailerSettings = z
  .strictObject({
    kind: mailerKind.describe('outbox: .eml files in the store; smtp: an SMTP server; ses: Amazon SES'),
    host: text.optional().describe('smtp: the server, e.g. smtp.example.org'),
    port: z
      .number({ error: 'must be a port number such as 587' })
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('smtp: 587 (STARTTLS) or 465 (TLS); default 587, or 465 with secure'),
    secure: z.boolean().optional().describe('smtp: TLS from the first byte (port 465)'),
    starttls: z
      .boolean()
      .optional()
      .describe('smtp: require STARTTLS: refuse a server that does not offer it (port 587)'),
    user: text.optional().describe('smtp: the login; the password comes from PRESSROOM_SMTP_PASSWORD'),
    // Named so that the refusal says what to do (an unknown key would only suggest others).
    password: z
      .custom<never>(() => false, {
        error:
          'never write a password in pressroom.yaml: set PRESSROOM_SMTP_PASSWORD in the environment instead, and remove this line',
      })
      .optional()
      .describe('Not allowed here: the password comes from PRESSROOM_SMTP_PASSWORD'),
    configurationSet: text.optional().describe('ses: the configuration set for bounce and complaint events'),
  })
  .superRefine((m, ctx) => {
    for (const key of smtpOnly) {
      if (m[key] !== undefined && m.kind !== 'smtp')
        ctx.addIssue({ code: 'custom', path: [key], message: `is for kind: smtp only (kind is ${m.kind})` });
    }
    if (m.configurationSet !== undefined && m.kind !== 'ses')
      ctx.addIssue({
        code: 'custom',
        path: ['configurationSet'],
        message: `is for kind: ses only (kind is ${m.kind})`,
      });
    if (m.secure && m.starttls)
      ctx.addIssue({
        code: 'custom',
        path: ['starttls'],
        message:
          'choose one: secure: true (TLS from the start, port 465) or starttls: true (STARTTLS, port 587)',
      });
  });

const listSettings = z.strictObject({
  title: listTitle
    .optional()
    .describe('Shown on the subscription pages and emails: text, or { fr, en }; default: the list name'),
  lang: language
    .optional()
    .describe("Language of pages and emails when a request names none; default: the workspace's"),
  press: z
    .boolean()
    .default(false)
    .describe('true for a press list (journalists): advance copies under embargo go only to press lists'),
  subscription: z
    .enum(['open', 'closed'], { error: 'must be "open" or "closed"' })
    .default('closed')
    .describe('open: offered on the public subscription form (double opt-in); closed: imports only'),
  from: sender
    .optional()
    .describe("Sender of this list's confirmation emails; default: the workspace's sender"),
  replyTo: email.optional(),
  topics: listTopics
    .optional()
    .describe(
      'Topic alerts (an open list only): the topics subscribers pick on the form, by tag slug, each with its label (text or { fr, en }); publishing a release with one of these tags mails them',
    ),
  frequencies: listFrequencies.optional(),
});

/** Where the store may be: a folder inside the workspace (relative to pressroom.yaml), or an absolute path. */
export function storeInsideWorkspace(store: string): boolean {
  if (path.isAbsolute(store)) return true;
  const normal = path.normalize(store);
  return normal !== '.' && normal !== '..' && !normal.startsWith(`..${path.sep}`);
}

export const workspaceFileSchema = z
  .strictObject({
    name: text.optional().describe('The workspace, e.g. the organisation that runs it'),
    language: language
      .optional()
      .describe('fr or en: the press room, subscription pages and default list language (default fr)'),
    timeZone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
      .optional()
      .describe(
        "IANA zone (Europe/Paris): times are shown in it, and a campaign's sendAt without a zone is read in it",
      ),
    publicUrl: url
      .optional()
      .describe('Base of signed links, unsubscribe and subscription links (default http://localhost:3000)'),
    siteUrl: url.optional().describe("The press room's top URL (default: publicUrl + /)"),
    lateFireWindowMinutes: z
      .number()
      .int('must be a whole number of minutes')
      .min(1, 'must be from 1 to 10080 minutes (a week)')
      .max(10_080, 'must be from 1 to 10080 minutes (a week)')
      .optional()
      .describe(
        'A scheduled campaign started more than this many minutes after its sendAt is paused instead of sent (default 60)',
      ),
    siteTitle: text.optional().describe('The press room title (default “Salle de presse” / “Press room”)'),
    sender: sender
      .optional()
      .describe('"Name <address>": the default from of campaigns and the sender of confirmations'),
    replyTo: email.optional().describe('The default reply address of campaigns and confirmations'),
    organizations: z
      .array(slug)
      .optional()
      .describe("Ids of the workspace's own organisations: files organizations/<id>.yaml"),
    lists: z
      // A list with no settings (`presse:`) is a closed list.
      .record(z.string(), z.union([listSettings, z.null()]))
      .optional()
      .describe('The lists, by name (the name campaigns use in audience.list)'),
    store: text
      .refine(
        storeInsideWorkspace,
        'must be a folder inside the workspace (such as .pressroom), or an absolute path',
      )
      .optional()
      .describe('The store folder, relative to this file (default .pressroom)'),
    mailer: z
      .union([mailerKind, mailerSettings])
      .optional()
      .describe('How mail leaves: outbox (default), { kind: smtp, host, port, ... } or { kind: ses }'),
  })
  .describe('pressroom workspace (pressroom.yaml)');

export type WorkspaceFile = z.output<typeof workspaceFileSchema>;
