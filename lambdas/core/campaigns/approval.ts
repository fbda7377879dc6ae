import { createHash } from 'node:crypto';
import { archiveKeys, readManifest } from '../archive/manifest.ts';
import { hasControlCharacter } from '../control-characters.ts';
import { PressroomError } from '../errors.ts';
import { newsletterKeys, readIssueManifest } from '../newsletter/catalog.ts';
import { getJson, type ObjectStore, serializeJson } from '../store/object-store.ts';
import type { CampaignDefinition } from './campaign.ts';
import { showTime } from './time.ts';

/**
 * Approval of a campaign (`approval: required`): who approved which version. A version is a
 * content hash of what the recipients get: the campaign's definition (subject, sender,
 * audience, options: every field but its name, its send time and the approval setting) and
 * the archived content it sends (the email's HTML and text, the page and the PDF of the
 * release or newsletter issue). Any change to one of them after the approval voids it:
 * editing the campaign file, or publishing the release again with other content.
 */

export class ApprovalError extends PressroomError {
  override name = 'ApprovalError';
}

/** The fields of a definition that are not what recipients get: who it is, when it goes, the gate. */
const notCovered = new Set(['name', 'sendAt', 'approval']);

/** The archived files a campaign sends or links to, hashed into its version. */
export const contentFiles = ['email.html', 'email.txt', 'page.html', 'release.pdf'] as const;
export type ContentFile = (typeof contentFiles)[number];

/** A campaign's version: the hash, and the digest of each part, to tell what changed. */
export interface CampaignFingerprint {
  /** sha256, hex, of the parts. */
  hash: string;
  /** `campaign.<field>` and `content.<file>` → sha256 (hex), or `none` for a file not there. */
  parts: Record<string, string>;
}

/** The archived content a campaign sends: its version folder and title. */
export interface CampaignContentSource {
  /** The version folder (`archive/<slug>/<version>/` or `newsletters/<id>/<version>/`). */
  prefix: string;
  title: string;
  /** What it is, for people: `release "<slug>"`, `newsletter issue "<id>"`. */
  what: string;
}

/** Where the content of a campaign is in the archive (no embargo check: sending does that). */
export async function campaignContent(
  store: ObjectStore,
  definition: CampaignDefinition,
): Promise<CampaignContentSource> {
  if (definition.newsletter !== undefined) {
    const issue = await readIssueManifest(store, definition.newsletter);
    return {
      prefix: newsletterKeys.version(definition.newsletter, issue.version),
      title: issue.summary.title,
      what: `newsletter issue "${definition.newsletter}"`,
    };
  }
  const manifest = await readManifest(store, definition.publication);
  return {
    prefix: archiveKeys.version(definition.publication, manifest.version),
    title: manifest.summary.title,
    what: `release "${definition.publication}"`,
  };
}

/** JSON with keys in order at every level: the same value always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The version of a campaign as it would be sent now. Fields a later version of the campaign
 * file adds are covered without a change here: every field is, but the name, `sendAt` and
 * `approval` (moving the send time keeps the approval).
 */
export async function fingerprintCampaign(
  definition: CampaignDefinition,
  store: ObjectStore,
  source?: CampaignContentSource,
): Promise<CampaignFingerprint> {
  const parts: Record<string, string> = {};
  for (const [field, value] of Object.entries(definition)) {
    if (notCovered.has(field) || value === undefined) continue;
    parts[`campaign.${field}`] = sha256(canonical(value));
  }
  const { prefix } = source ?? (await campaignContent(store, definition));
  for (const file of contentFiles) {
    const object = await store.get(`${prefix}${file}`);
    parts[`content.${file}`] = object ? sha256(object.body) : 'none';
  }
  return { hash: sha256(canonical(parts)), parts };
}

/** What people call each part, in the messages that say what changed. */
const partNames: Record<string, string> = {
  'campaign.subject': 'the subject',
  'campaign.from': 'the sender',
  'campaign.replyTo': 'the reply-to address',
  'campaign.audience': 'the audience',
  'campaign.publication': 'the release it sends',
  'campaign.newsletter': 'the newsletter issue it sends',
  'campaign.attachPdf': 'attachPdf',
  'content.email.html': 'the email (HTML)',
  'content.email.txt': 'the email (text part)',
  'content.page.html': 'the web page',
  'content.release.pdf': 'the PDF',
};

/** The parts that differ between two fingerprints, as people call them. */
export function changedParts(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((part) => before[part] !== after[part])
    .map((part) => partNames[part] ?? `"${part.replace(/^campaign\./, '')}" of the campaign file`);
}

/** `campaigns/<name>/approval.json`: who approved which version of the campaign, when. */
export interface ApprovalRecord {
  campaign: string;
  /** The version approved (fingerprintCampaign's hash). */
  hash: string;
  /** Its parts, to say what changed since. */
  parts: Record<string, string>;
  /** Who approved it, as given (`--by`). */
  by: string;
  /** When (UTC ISO). */
  at: string;
  /** Who recorded it: `user@host` on the command line. */
  recordedBy?: string;
  /** What was approved, for people. */
  subject: string;
}

export const approvalKey = (campaign: string) => `campaigns/${campaign}/approval.json`;

export async function readApproval(
  store: ObjectStore,
  campaign: string,
): Promise<ApprovalRecord | undefined> {
  return (await getJson<ApprovalRecord>(store, approvalKey(campaign)))?.value;
}

export async function writeApproval(store: ObjectStore, record: ApprovalRecord): Promise<void> {
  await store.put(approvalKey(record.campaign), serializeJson(record), { contentType: 'application/json' });
}

/** A name as `--by` gives it: printable, on one line, not too long. */
export function checkApproverName(by: string): string {
  const name = by.trim().replace(/\s+/g, ' ');
  if (name.length === 0 || name.length > 120 || hasControlCharacter(by) || /[\r\n]/.test(by)) {
    throw new ApprovalError(
      `--by ${JSON.stringify(by)} is not a name: give who approves, on one line, e.g. --by "Florence Poznanski" (120 characters at most)`,
    );
  }
  return name;
}

/**
 * The gate of a campaign with `approval: required`: refused, saying why and what to do, unless
 * its approval is of the version that would be sent now. Sending (`send`, resume, the due
 * jobs, dispatch on AWS) and scheduling pass through it; test messages and dry runs do not.
 */
export async function checkApproval(
  definition: CampaignDefinition,
  store: ObjectStore,
  options: { timeZone?: string; source?: CampaignContentSource } = {},
): Promise<void> {
  if (definition.approval !== 'required') return;
  const name = definition.name;
  const approval = await readApproval(store, name);
  if (!approval) {
    throw new ApprovalError(
      `campaign "${name}" needs an approval (approval: required) and has none: make a proof (\`pressroom proof <campaign file>\`), have it checked, then record it with \`pressroom campaign approve ${name} --by "Name"\`. Refused: nothing was sent or scheduled.`,
    );
  }
  const current = await fingerprintCampaign(definition, store, options.source);
  if (current.hash === approval.hash) return;
  const changed = changedParts(approval.parts, current.parts);
  throw new ApprovalError(
    `campaign "${name}" was approved by ${approval.by} on ${showTime(approval.at, options.timeZone ?? 'UTC')} (version ${approval.hash.slice(0, 12)}, "${approval.subject}"), but it changed since: ${changed.join(', ') || 'its content'}. The approval no longer holds: make a new proof (\`pressroom proof <campaign file>\`) and approve it again (\`pressroom campaign approve ${name} --by "Name"\`). Refused: nothing was sent or scheduled.`,
  );
}
