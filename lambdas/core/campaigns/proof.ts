import type { ContactKeys } from '../contacts/model.ts';
import { InvalidTokenError, openExpiringToken, signExpiringToken } from '../contacts/tokens.ts';
import { slugPattern } from '../publication/schema.ts';
import { compileForRecipients, type RecipientFields } from '../render/recipient.ts';
import { getJson, getText, listAll, type ObjectStore, serializeJson } from '../store/object-store.ts';
import {
  ApprovalError,
  type ApprovalRecord,
  campaignContent,
  changedParts,
  checkApproverName,
  fingerprintCampaign,
  writeApproval,
} from './approval.ts';
import { audienceLists, type CampaignDefinition } from './campaign.ts';

/**
 * Approval proofs: `pressroom proof <campaign>` stores what the campaign would send, filled
 * for the sample recipient (never a real contact: whoever holds the link sees it), under
 * `proofs/<campaign>/<version>/`, and hands out a signed link that expires. The public
 * endpoint (`/proof/<token>`, public/proof-page.ts) shows it: the email at desktop and phone
 * widths, its text part, the page and the PDF, with subject and sender. `pressroom campaign
 * approve` then records who approved the version the latest proof shows.
 */

/** Where proofs are: their own prefix, the only one of campaigns the public function reads. */
export const proofKeys = {
  prefix: 'proofs/',
  campaign: (campaign: string) => `proofs/${campaign}/`,
  latest: (campaign: string) => `proofs/${campaign}/latest.json`,
  file: (campaign: string, hash: string, name: ProofFile) => `proofs/${campaign}/${hash}/${name}`,
};

/** The files of a proof. */
export type ProofFile = 'proof.json' | 'email.html' | 'email.txt' | 'page.html' | 'release.pdf';

/** `proofs/<campaign>/<version>/proof.json`: what the proof page shows, and the version it is. */
export interface ProofRecord {
  campaign: string;
  /** The campaign's version (approval.ts's fingerprint) and its parts. */
  hash: string;
  parts: Record<string, string>;
  /** The definition the proof was made from: what `campaign approve` approves. */
  definition: CampaignDefinition;
  createdAt: string;
  /** Who made it: `user@host` on the command line. */
  createdBy?: string;
  subject: string;
  from: { name: string; address: string };
  replyTo?: string;
  /** `release "<slug>"` or `newsletter issue "<id>"`, and its title. */
  what: string;
  title: string;
  /** The audience, for people: lists and tags. */
  audience: string;
  /** The made-up recipient the email is filled for. */
  sample: { name: string; email: string };
  /** Which of the page and the PDF the proof holds. */
  files: { page: boolean; pdf: boolean };
  /** Left out of the proof: the PDF when larger than what one response may carry. */
  omitted?: string[];
  approvalRequired: boolean;
}

/** `latest.json`: the version of the newest proof, what `campaign approve` approves by default. */
interface LatestProof {
  hash: string;
  createdAt: string;
}

/** A proof link's lifetime, by default, and at most. */
export const defaultProofValidSeconds = 7 * 24 * 3600;
export const maxProofValidSeconds = 90 * 24 * 3600;
/**
 * A PDF larger than this is left out of the proof: the public function answers in one
 * response of at most 6 MB (Lambda's limit), base64 making bytes a third larger.
 */
export const maxProofPdfBytes = 4 * 1024 * 1024;

const proofVersion = 'p1';

/** What a proof link carries: which proof, until when. */
export interface ProofToken {
  campaign: string;
  hash: string;
  /** Whole seconds. */
  expiresAt: Date;
}

export function signProofToken(keys: ContactKeys, token: ProofToken): string {
  return signExpiringToken(keys, proofVersion, [token.campaign, token.hash], token.expiresAt);
}

/**
 * The token's content; InvalidTokenError when it was not signed by us, was changed or names
 * no proof; ExpiredTokenError (checked after the signature) when its time is over at `now`.
 */
export function verifyProofToken(keys: ContactKeys, token: string, now: Date): ProofToken {
  const { parts, expiresAt } = openExpiringToken(keys, proofVersion, token, 'proof', now);
  const [campaign, hash] = parts;
  if (
    parts.length !== 2 ||
    typeof campaign !== 'string' ||
    !slugPattern.test(campaign) ||
    typeof hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(hash)
  ) {
    throw new InvalidTokenError('this proof link is not valid (unreadable)');
  }
  return { campaign, hash, expiresAt };
}

/** The words an audience is described with. */
export interface AudienceWords {
  list: string;
  lists: string;
  tags: string;
  any: string;
  all: string;
}

const englishWords: AudienceWords = {
  list: 'list',
  lists: 'lists',
  tags: 'tags',
  any: 'any of them',
  all: 'all of them',
};

/** A campaign's audience as people read it: `lists presse, lettre; tags a, b (any of them)`. */
export function describeAudience(
  audience: CampaignDefinition['audience'],
  words: AudienceWords = englishWords,
): string {
  const lists = audienceLists(audience);
  const tags = audience.tags?.length
    ? `; ${words.tags} ${audience.tags.join(', ')} (${audience.tagsMode === 'all' ? words.all : words.any})`
    : '';
  return `${lists.length > 1 ? words.lists : words.list} ${lists.join(', ')}${tags}`;
}

/**
 * The recipient a proof's email is filled for: made up, and plainly so, never a contact of the
 * audience (whoever holds the link would see their name and address). Its unsubscribe link
 * goes nowhere.
 */
export const proofRecipient: RecipientFields = {
  recipient: { firstName: 'Prénom', lastName: 'Nom', email: 'prenom.nom@example.org' },
  unsubscribeUrl: 'https://example.org/unsubscribe/proof',
};

export interface ProofDeps {
  store: ObjectStore;
  keys: ContactKeys;
  clock?: () => Date;
}

export interface MadeProof {
  token: string;
  expiresAt: Date;
  record: ProofRecord;
}

/**
 * Stores the proof of a campaign as it would be sent now (the same version again replaces
 * it), and signs a link to it valid `validSeconds`. The email is filled for
 * {@link proofRecipient}.
 */
export async function makeProof(
  definition: CampaignDefinition,
  deps: ProofDeps,
  options: { validSeconds?: number; createdBy?: string } = {},
): Promise<MadeProof> {
  const now = (deps.clock ?? (() => new Date()))();
  const source = await campaignContent(deps.store, definition);
  const fingerprint = await fingerprintCampaign(definition, deps.store, source);
  const html = await getText(deps.store, `${source.prefix}email.html`);
  const text = await getText(deps.store, `${source.prefix}email.txt`);
  if (html === undefined || text === undefined)
    throw new ApprovalError(`the archive of ${source.what} has no email: publish it again`);
  const page = await deps.store.get(`${source.prefix}page.html`);
  const pdf = await deps.store.get(`${source.prefix}release.pdf`);
  const pdfFits = pdf !== undefined && pdf.body.byteLength <= maxProofPdfBytes;
  const filled = compileForRecipients({ html, text }).fill(proofRecipient);
  const r = proofRecipient.recipient;
  const record: ProofRecord = {
    campaign: definition.name,
    hash: fingerprint.hash,
    parts: fingerprint.parts,
    definition,
    createdAt: now.toISOString(),
    ...(options.createdBy && { createdBy: options.createdBy }),
    subject: definition.subject ?? source.title,
    from: definition.from,
    ...(definition.replyTo && { replyTo: definition.replyTo }),
    what: source.what,
    title: source.title,
    audience: describeAudience(definition.audience),
    sample: {
      name: r.fullName ?? ([r.firstName, r.lastName].filter(Boolean).join(' ') || r.email),
      email: r.email,
    },
    files: { page: page !== undefined, pdf: pdfFits },
    ...(pdf !== undefined && !pdfFits && { omitted: ['release.pdf'] }),
    approvalRequired: definition.approval === 'required',
  };
  const key = (name: ProofFile) => proofKeys.file(definition.name, fingerprint.hash, name);
  await deps.store.put(key('email.html'), filled.html, { contentType: 'text/html; charset=utf-8' });
  await deps.store.put(key('email.txt'), filled.text, { contentType: 'text/plain; charset=utf-8' });
  if (page) await deps.store.put(key('page.html'), page.body, { contentType: 'text/html; charset=utf-8' });
  if (pdf && pdfFits) await deps.store.put(key('release.pdf'), pdf.body, { contentType: 'application/pdf' });
  // The record last: a proof whose record is there is complete.
  await deps.store.put(key('proof.json'), serializeJson(record), { contentType: 'application/json' });
  const latest: LatestProof = { hash: fingerprint.hash, createdAt: record.createdAt };
  await deps.store.put(proofKeys.latest(definition.name), serializeJson(latest), {
    contentType: 'application/json',
  });
  const validSeconds = Math.min(options.validSeconds ?? defaultProofValidSeconds, maxProofValidSeconds);
  const expiresAt = new Date((Math.floor(now.getTime() / 1000) + validSeconds) * 1000);
  return {
    token: signProofToken(deps.keys, { campaign: definition.name, hash: fingerprint.hash, expiresAt }),
    expiresAt,
    record,
  };
}

/** A proof's record, or undefined. */
export async function readProof(
  store: ObjectStore,
  campaign: string,
  hash: string,
): Promise<ProofRecord | undefined> {
  return (await getJson<ProofRecord>(store, proofKeys.file(campaign, hash, 'proof.json')))?.value;
}

/** The proof `version` names (a hash or its first 8 characters or more), else the newest. */
async function proofToApprove(store: ObjectStore, campaign: string, version?: string): Promise<ProofRecord> {
  let hash: string | undefined;
  if (version === undefined) {
    hash = (await getJson<LatestProof>(store, proofKeys.latest(campaign)))?.value.hash;
    if (hash === undefined) {
      throw new ApprovalError(
        `campaign "${campaign}" has no proof to approve: make one with \`pressroom proof <campaign file>\`, have it checked, then approve it`,
      );
    }
  } else {
    if (!/^[0-9a-f]{8,64}$/.test(version))
      throw new ApprovalError(
        `--version ${JSON.stringify(version)} is not a version: give the hash \`pressroom proof\` printed (8 hex digits or more)`,
      );
    const found = new Set<string>();
    for await (const item of listAll(store, proofKeys.campaign(campaign))) {
      const folder = item.key.slice(proofKeys.campaign(campaign).length).split('/')[0] ?? '';
      if (folder.startsWith(version)) found.add(folder);
    }
    if (found.size !== 1)
      throw new ApprovalError(
        found.size === 0
          ? `campaign "${campaign}" has no proof of version ${version}: \`pressroom proof <campaign file>\` prints the version it shows`
          : `version ${version} names several proofs of "${campaign}": give more of the hash`,
      );
    [hash] = found;
  }
  const proof = hash === undefined ? undefined : await readProof(store, campaign, hash);
  if (!proof)
    throw new ApprovalError(
      `the proof of "${campaign}" version ${hash?.slice(0, 12)} is gone: make a new one with \`pressroom proof <campaign file>\``,
    );
  return proof;
}

/**
 * Records that `by` approved the campaign as its latest proof (or the proof of `version`)
 * shows it. Refused when what would be sent is no longer what that proof shows (the release
 * was published again since): a new proof is needed.
 */
export async function approveCampaign(
  campaign: string,
  by: string,
  deps: { store: ObjectStore; clock?: () => Date },
  options: { version?: string; recordedBy?: string } = {},
): Promise<{ approval: ApprovalRecord; proof: ProofRecord }> {
  const name = checkApproverName(by);
  const proof = await proofToApprove(deps.store, campaign, options.version);
  const current = await fingerprintCampaign(proof.definition, deps.store);
  if (current.hash !== proof.hash) {
    throw new ApprovalError(
      `the proof of "${campaign}" made at ${proof.createdAt} (version ${proof.hash.slice(0, 12)}) is no longer what would be sent: ${changedParts(proof.parts, current.parts).join(', ')} changed since. Nothing approved: make a new proof (\`pressroom proof <campaign file>\`), have it checked, then approve it.`,
    );
  }
  const approval: ApprovalRecord = {
    campaign,
    hash: proof.hash,
    parts: proof.parts,
    by: name,
    at: (deps.clock ?? (() => new Date()))().toISOString(),
    ...(options.recordedBy && { recordedBy: options.recordedBy }),
    subject: proof.subject,
  };
  await writeApproval(deps.store, approval);
  return { approval, proof };
}
