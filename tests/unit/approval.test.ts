/**
 * Approval proofs on the memory store: the proof token (forged, altered, expired, another
 * kind), the campaign's version (content hash: what changes it, what does not), the gate of
 * `approval: required` on send, schedule and dispatch, approving a proof, and the proof page
 * of the public endpoint.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validity } from '../../bin/commands/proof.ts';
import type { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import { loadTemplateFiles } from '../../lambdas/adapters/template-files.ts';
import { archiveKeys, readManifest } from '../../lambdas/core/archive/manifest.ts';
import {
  ApprovalError,
  approvalKey,
  changedParts,
  checkApproverName,
  fingerprintCampaign,
  readApproval,
} from '../../lambdas/core/campaigns/approval.ts';
import { readCampaign } from '../../lambdas/core/campaigns/campaign.ts';
import { dispatchCampaign } from '../../lambdas/core/campaigns/dispatch.ts';
import {
  approveCampaign,
  makeProof,
  proofKeys,
  signProofToken,
  verifyProofToken,
} from '../../lambdas/core/campaigns/proof.ts';
import { scheduleCampaign } from '../../lambdas/core/campaigns/schedule.ts';
import { type SendDeps, sendCampaign } from '../../lambdas/core/campaigns/send.ts';
import { parseSendTime, type SendTime } from '../../lambdas/core/campaigns/time.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import {
  ExpiredTokenError,
  InvalidTokenError,
  signSubscriptionToken,
} from '../../lambdas/core/contacts/tokens.ts';
import { publishIssue } from '../../lambdas/core/newsletter/publish.ts';
import { handlePublicRequest } from '../../lambdas/core/public/endpoint.ts';
import type { TemplateSet } from '../../lambdas/core/render/templates.ts';
import {
  copyOf,
  definition,
  issueDeps,
  journalist,
  MemoryMailer,
  registerDraft,
  releaseDeps,
  releaseWorkspace,
  seededStore,
} from '../support/dispatch-fixtures.ts';
import { memoryFiles } from '../support/memory-files.ts';

const keys = contactKeys('a-secret-of-at-least-thirty-two-characters');
const now = new Date('2026-01-16T07:30:00Z');
const clock = () => now;
const hash = 'a'.repeat(64);
const approved = definition('etude', { approval: 'required' });

let base: MemoryObjectStore;
let templates: TemplateSet;
beforeAll(async () => {
  templates = await loadTemplateFiles();
  base = await seededStore(keys, 3);
  // A newsletter issue that links to the public release.
  const files = memoryFiles({
    ...releaseWorkspace(),
    'lettres/mars.md':
      '---\ntitle: "La lettre de janvier"\ndate: 2026-01-16\npublishers: [villes-internet]\nintro: Les nouvelles du mois.\nitems:\n  - release: etude-villes\n---\n',
  });
  await publishIssue('lettres/mars.md', issueDeps(releaseDeps(base, templates, files), templates, clock));
});

let store: MemoryObjectStore;
beforeEach(async () => {
  store = await copyOf(base);
});

const sendDeps = (mailer = new MemoryMailer()): SendDeps => ({
  store,
  mailer,
  keys,
  publicUrl: 'https://press.example.org',
  clock,
  sleep: async () => {},
});

const proofDeps = () => ({ store, keys, clock });

/** The archived files of the release "etude-villes". */
async function releasePrefix() {
  const manifest = await readManifest(store, 'etude-villes');
  return archiveKeys.version('etude-villes', manifest.version);
}

describe('the proof token', () => {
  const token = { campaign: 'etude', hash, expiresAt: new Date('2026-01-23T07:30:00Z') };

  it('opens to what was signed, until it expires', () => {
    expect(verifyProofToken(keys, signProofToken(keys, token), now)).toEqual(token);
  });

  it('is refused when forged, altered, signed with another key or of another kind', () => {
    const signed = signProofToken(keys, token);
    const [version, payload, signature] = signed.split('.') as [string, string, string];
    const altered = Buffer.from(JSON.stringify(['etude', 'b'.repeat(64), 1_800_000_000])).toString(
      'base64url',
    );
    expect(() => verifyProofToken(keys, `${version}.${altered}.${signature}`, now)).toThrow(
      InvalidTokenError,
    );
    expect(() =>
      verifyProofToken(contactKeys('another-secret-of-at-least-thirty-two-chars'), signed, now),
    ).toThrow(/signature does not match/);
    expect(() => verifyProofToken(keys, `${version}.${payload}`, now)).toThrow(/malformed/);
    const subscription = signSubscriptionToken(keys, {
      contact: 'c',
      list: 'presse',
      expiresAt: token.expiresAt,
    });
    expect(() => verifyProofToken(keys, subscription, now)).toThrow(InvalidTokenError);
  });

  it('is refused once expired, after its signature is checked', () => {
    const signed = signProofToken(keys, token);
    expect(() => verifyProofToken(keys, signed, token.expiresAt)).toThrow(ExpiredTokenError);
    expect(() => verifyProofToken(keys, signed, new Date('2026-02-01T00:00:00Z'))).toThrow(/expired at/);
  });

  it('is refused when it names no proof (a campaign name or a hash out of shape)', () => {
    const bad = signProofToken(keys, { ...token, campaign: '../site' });
    expect(() => verifyProofToken(keys, bad, now)).toThrow(/unreadable/);
  });
});

describe('--valid', () => {
  it('reads days, hours and minutes, from a minute to 90 days, and refuses the rest', () => {
    expect([validity('7d'), validity('36h'), validity('90m'), validity('90d')]).toEqual([
      7 * 86_400,
      36 * 3_600,
      90 * 60,
      90 * 86_400,
    ]);
    for (const bad of ['91d', '0m', '7', '1w', '-1d', 'soon'])
      expect(() => validity(bad)).toThrow(/7d, 36h or 90m/);
  });
});

describe("a campaign's version", () => {
  it('is stable: the same campaign and content give the same hash, its send time and name aside', async () => {
    const first = await fingerprintCampaign(approved, store);
    const again = await fingerprintCampaign(JSON.parse(JSON.stringify(approved)), store);
    const sendAt = parseSendTime('2026-01-20T08:00 Europe/Paris') as SendTime;
    const moved = await fingerprintCampaign({ ...approved, sendAt }, store);
    const ungated = await fingerprintCampaign({ ...approved, approval: undefined }, store);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect([again.hash, moved.hash, ungated.hash]).toEqual([first.hash, first.hash, first.hash]);
  });

  it('changes with the subject, the sender, the audience, and the release content', async () => {
    const first = await fingerprintCampaign(approved, store);
    const subject = await fingerprintCampaign({ ...approved, subject: 'Autre objet' }, store);
    const audience = await fingerprintCampaign(
      { ...approved, audience: { lists: ['presse'], tags: ['radio'], tagsMode: 'any' } },
      store,
    );
    const from = await fingerprintCampaign(
      { ...approved, from: { name: 'Autre', address: 'autre@villes-internet.example.org' } },
      store,
    );
    expect(new Set([first.hash, subject.hash, audience.hash, from.hash]).size).toBe(4);
    expect(changedParts(first.parts, subject.parts)).toEqual(['the subject']);
    expect(changedParts(first.parts, audience.parts)).toEqual(['the audience']);
    expect(changedParts(first.parts, from.parts)).toEqual(['the sender']);

    const prefix = await releasePrefix();
    const html = await store.get(`${prefix}email.html`);
    await store.put(`${prefix}email.html`, `${new TextDecoder().decode(html?.body)}<!-- republished -->`);
    const republished = await fingerprintCampaign(approved, store);
    expect(changedParts(first.parts, republished.parts)).toEqual(['the email (HTML)']);
    await store.put(`${prefix}release.pdf`, new Uint8Array([37, 80, 68, 70]));
    const printed = await fingerprintCampaign(approved, store);
    expect(changedParts(republished.parts, printed.parts)).toEqual(['the PDF']);
  });
});

describe('approval: required', () => {
  it('refuses a send with no approval, saying what to do; a test message still goes', async () => {
    const mailer = new MemoryMailer();
    await expect(sendCampaign(approved, sendDeps(mailer))).rejects.toThrow(ApprovalError);
    await expect(sendCampaign(approved, sendDeps(mailer))).rejects.toThrow(
      /needs an approval .*pressroom campaign approve etude --by "Name"/,
    );
    expect(mailer.delivered).toHaveLength(0);
    const test = await sendCampaign(approved, sendDeps(mailer), {
      testTo: ['a@example.org', 'b@example.org'],
    });
    expect(test.tests?.map((t) => t.to)).toEqual(['a@example.org', 'b@example.org']);
    expect(new Set(test.tests?.map((t) => t.messageId)).size).toBe(2);
    expect(mailer.delivered.map((m) => m.to)).toEqual(['a@example.org', 'b@example.org']);
  });

  it('sends the approved version, and refuses it once changed, naming who approved what and what changed', async () => {
    await makeProof(approved, proofDeps());
    const { approval } = await approveCampaign('etude', '  Florence   Poznanski ', { store, clock });
    expect(approval).toMatchObject({ campaign: 'etude', by: 'Florence Poznanski', at: now.toISOString() });
    expect(await readApproval(store, 'etude')).toEqual(approval);

    const edited = { ...approved, subject: 'Un autre objet' };
    const refused = sendCampaign(edited, sendDeps());
    await expect(refused).rejects.toThrow(
      new RegExp(
        `approved by Florence Poznanski on 2026-01-16 07:30 \\+00:00 UTC \\(version ${approval.hash.slice(0, 12)}, "Communiqué etude"\\), but it changed since: the subject`,
      ),
    );
    const mailer = new MemoryMailer();
    const report = await sendCampaign(approved, sendDeps(mailer));
    expect(report.sent).toBe(3);
    expect(mailer.delivered.map((m) => m.to).sort()).toEqual([0, 1, 2].map(journalist).sort());
  });

  it('refuses to schedule, and dispatch refuses (recording why), until approved', async () => {
    const sendAt = parseSendTime('2026-01-20T08:00 Europe/Paris') as SendTime;
    await expect(scheduleCampaign({ ...approved, sendAt }, { store, clock }, 'etude.yaml')).rejects.toThrow(
      /needs an approval/,
    );
    await registerDraft(store, approved);
    const queue = { batches: 0, enqueue: async () => void queue.batches++ };
    await expect(
      dispatchCampaign('etude', { store, queue, clock }, { recipientsPerMessage: 10 }),
    ).rejects.toThrow(ApprovalError);
    expect(queue.batches).toBe(0);
    expect((await readCampaign(store, 'etude')).lastError?.message).toMatch(/needs an approval/);

    await makeProof(approved, proofDeps());
    await approveCampaign('etude', 'Florence Poznanski', { store, clock });
    const scheduled = await scheduleCampaign({ ...approved, sendAt }, { store, clock }, 'etude.yaml');
    expect(scheduled.state).toBe('scheduled');
    // When the schedule fires.
    const fires = () => new Date(sendAt.utc);
    const report = await dispatchCampaign(
      'etude',
      { store, queue, clock: fires },
      { recipientsPerMessage: 10 },
    );
    expect(report.enqueued).toBe(3);
  });

  it('holds for a newsletter issue too: its proof, its approval, its send', async () => {
    const letter = definition('lettre', { newsletter: 'mars', publication: undefined, approval: 'required' });
    await expect(sendCampaign(letter, sendDeps())).rejects.toThrow(/needs an approval/);
    const { record } = await makeProof(letter, proofDeps());
    expect(record).toMatchObject({ what: 'newsletter issue "mars"', files: { page: true, pdf: false } });
    await approveCampaign('lettre', 'Florence Poznanski', { store, clock });
    const mailer = new MemoryMailer();
    expect((await sendCampaign(letter, sendDeps(mailer))).sent).toBe(3);
  });

  it('approves only a proof that still shows what would be sent, and a name given', async () => {
    await expect(approveCampaign('etude', 'X', { store, clock })).rejects.toThrow(/has no proof to approve/);
    await makeProof(approved, proofDeps());
    expect(() => checkApproverName('   ')).toThrow(/is not a name/);
    expect(() => checkApproverName('Florence\nPoznanski')).toThrow(/is not a name/);
    const prefix = await releasePrefix();
    await store.put(`${prefix}email.txt`, 'Another text');
    await expect(approveCampaign('etude', 'Florence Poznanski', { store, clock })).rejects.toThrow(
      /no longer what would be sent: the email \(text part\) changed since. Nothing approved/,
    );
    expect(await store.get(approvalKey('etude'))).toBeUndefined();
  });
});

describe('the proof page', () => {
  const ask = (path: string, at = now) =>
    handlePublicRequest(
      { method: 'GET', path, headers: {} },
      {
        store,
        keys,
        templates,
        mailer: new MemoryMailer(),
        settings: { publicUrl: 'https://press.example.org', lang: 'en', lists: {} },
        clock: () => at,
      },
    );

  it('shows subject, sender, the email at both widths and its text, filled for the sample recipient only', async () => {
    const { token, record } = await makeProof(approved, proofDeps());
    const page = await ask(`/proof/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'cache-control': 'private, no-store',
      'x-robots-tag': 'noindex, nofollow',
      'referrer-policy': 'no-referrer',
    });
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('Communiqué etude');
    expect(page.body).toContain('Villes Internet &lt;presse@villes-internet.example.org&gt;');
    expect(page.body).toMatch(/<iframe id="email-desktop"[^>]* src="\/proof\/[^"]+\/email" sandbox=/);
    expect(page.body).toMatch(/<iframe id="email-phone"[^>]* src="\/proof\/[^"]+\/email" sandbox=/);
    expect(page.body).toContain('<pre id="email-text">');
    expect(page.body).toContain('Prénom Nom &lt;prenom.nom@example.org&gt;');

    const email = await ask(`/proof/${token}/email`);
    expect(email.status).toBe(200);
    expect(email.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(email.body).toContain('Prénom');
    for (const i of [0, 1, 2]) expect(email.body).not.toContain(journalist(i));
    expect((await ask(`/proof/${token}/page`)).status).toBe(record.files.page ? 200 : 404);
    expect((await ask(`/proof/${token}/pdf`)).status).toBe(404);
  });

  it('serves the PDF as bytes', async () => {
    const prefix = await releasePrefix();
    const pdf = new Uint8Array([37, 80, 68, 70, 45, 0, 255, 10]);
    await store.put(`${prefix}release.pdf`, pdf);
    const { token } = await makeProof(approved, proofDeps());
    const reply = await ask(`/proof/${token}/pdf`);
    expect(reply).toMatchObject({ status: 200, isBase64Encoded: true });
    expect(reply.headers['content-type']).toBe('application/pdf');
    expect(new Uint8Array(Buffer.from(reply.body, 'base64'))).toEqual(pdf);
  });

  it('refuses forged and expired links, and proofs that are gone', async () => {
    const { token, expiresAt } = await makeProof(approved, proofDeps(), { validSeconds: 3600 });
    expect((await ask(`/proof/${token.slice(0, -2)}xx`)).status).toBe(400);
    const expired = await ask(`/proof/${token}`, expiresAt);
    expect(expired.status).toBe(410);
    expect(expired.body).toContain('expired');
    const other = signProofToken(keys, { campaign: 'etude', hash, expiresAt });
    expect((await ask(`/proof/${other}`)).status).toBe(404);
    expect((await ask(`/proof/${token}/anything`)).status).toBe(404);
    expect(proofKeys.file('etude', hash, 'proof.json')).toBe(`proofs/etude/${hash}/proof.json`);
  });
});
