import Handlebars from 'handlebars';
import type { CampaignDefinition } from '../campaigns/campaign.ts';
import {
  type AudienceWords,
  describeAudience,
  type ProofFile,
  type ProofRecord,
  proofKeys,
  verifyProofToken,
} from '../campaigns/proof.ts';
import { showTime } from '../campaigns/time.ts';
import type { ContactKeys } from '../contacts/model.ts';
import { ExpiredTokenError, InvalidTokenError } from '../contacts/tokens.ts';
import type { Language } from '../publication/schema.ts';
import type { TemplateSet } from '../render/templates.ts';
import { getJson, getText, type ObjectStore } from '../store/object-store.ts';
import { type PublicResponse, page, plain } from './http.ts';
import { contentDisposition, pageContentSecurityPolicy } from './site-headers.ts';

/**
 * The proof page of a campaign, `/proof/<token>` on the public endpoint, and its parts under
 * the same token: `/proof/<token>/email` (the email filled for the sample recipient, shown in
 * two sandboxed frames), `/proof/<token>/page` and `/proof/<token>/pdf` (no `.pdf` ending:
 * CloudFront's `*.pdf` behaviour, which goes to the bucket, would take it). The token is
 * the whole authority (campaigns/proof.ts): signed, expiring, naming one version. Nothing is
 * cached or indexed, and no page hands its URL on.
 */

export const proofPath = '/proof/';

/** Every answer about a proof: never stored by a cache, never indexed, no referrer. */
const proofHeaders = {
  'cache-control': 'private, no-store',
  'x-robots-tag': 'noindex, nofollow',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** The proof page: its own frames only, nothing runs. */
export const proofPageSecurityPolicy =
  "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The email in its frames: images and inline styles as a mail client shows them; nothing runs. */
export const proofEmailSecurityPolicy =
  "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/** The fixed strings of the proof page. */
const labels: Record<Language, AudienceWords & Record<string, string>> = {
  fr: {
    proof: 'Épreuve',
    notSent: 'rien n’a été envoyé',
    from: 'Expéditeur',
    replyTo: 'Réponse à',
    subject: 'Objet',
    content: 'Contenu',
    audience: 'Destinataires',
    version: 'Version',
    expires: 'Lien valable jusqu’au',
    sample:
      'Le courriel est montré tel que le recevrait un destinataire fictif (aucun contact réel n’apparaît ici) :',
    approvalRequired:
      'Cette campagne demande une approbation : elle ne part qu’une fois cette version approuvée (pressroom campaign approve).',
    email: 'Courriel',
    desktop: 'Ordinateur (640 px)',
    phone: 'Téléphone (375 px)',
    text: 'Version texte',
    files: 'Page et PDF',
    page: 'La page web',
    pdf: 'Le PDF',
    tooLarge: 'Le PDF est trop lourd pour l’épreuve (plus de 4 Mo) : voyez-le dans l’archive.',
    release: 'communiqué',
    newsletter: 'lettre',
    list: 'liste',
    lists: 'listes',
    tags: 'étiquettes',
    any: 'l’une d’elles',
    all: 'toutes',
  },
  en: {
    proof: 'Proof',
    notSent: 'nothing was sent',
    from: 'From',
    replyTo: 'Reply to',
    subject: 'Subject',
    content: 'Content',
    audience: 'Audience',
    version: 'Version',
    expires: 'Link valid until',
    sample: 'The email is shown as a made-up recipient would get it (no real contact appears here):',
    approvalRequired:
      'This campaign needs an approval: it goes only once this version is approved (pressroom campaign approve).',
    email: 'Email',
    desktop: 'Desktop (640 px)',
    phone: 'Phone (375 px)',
    text: 'Text part',
    files: 'Page and PDF',
    page: 'The web page',
    pdf: 'The PDF',
    tooLarge: 'The PDF is too large for the proof (over 4 MB): see it in the archive.',
    release: 'release',
    newsletter: 'newsletter issue',
    list: 'list',
    lists: 'lists',
    tags: 'tags',
    any: 'any of them',
    all: 'all of them',
  },
};

const templates = new WeakMap<TemplateSet, Handlebars.TemplateDelegate>();

/** What the campaign sends, in the page's language: `communiqué etude-villes`. */
function whatOf(definition: CampaignDefinition, l: Record<string, string>): string {
  return definition.newsletter !== undefined
    ? `${l.newsletter} ${definition.newsletter}`
    : `${l.release} ${definition.publication}`;
}

export interface ProofPageDeps {
  store: ObjectStore;
  keys: ContactKeys;
  templates: TemplateSet;
  /** The page's language. */
  lang: Language;
  /** The zone the page's times are shown in (default UTC). */
  timeZone?: string;
  now: Date;
}

/** Answers `/proof/...` (GET and HEAD). */
export async function answerProof(
  path: string,
  method: string,
  deps: ProofPageDeps,
): Promise<PublicResponse> {
  if (method !== 'GET' && method !== 'HEAD')
    return plain(405, 'Method not allowed\n', { ...proofHeaders, allow: 'GET, HEAD' });
  const t = deps.templates.locales[deps.lang];
  const [raw = '', part = '', ...more] = path.slice(proofPath.length).split('/');
  const notFound = () =>
    page(deps.templates, 404, deps.lang, { title: t.notFoundTitle, text: t.notFoundText }, proofHeaders);
  if (more.length > 0 || !['', 'email', 'page', 'pdf'].includes(part)) return notFound();
  let token: string;
  let proof: ProofRecord | undefined;
  let expiresAt: Date;
  try {
    token = decodeURIComponent(raw);
    const checked = verifyProofToken(deps.keys, token, deps.now);
    expiresAt = checked.expiresAt;
    proof = (
      await getJson<ProofRecord>(deps.store, proofKeys.file(checked.campaign, checked.hash, 'proof.json'))
    )?.value;
  } catch (error) {
    if (error instanceof ExpiredTokenError) {
      return page(
        deps.templates,
        410,
        deps.lang,
        { title: t.invalidLinkTitle, text: `${error.message}: ask for a new link (pressroom proof).` },
        proofHeaders,
      );
    }
    if (!(error instanceof InvalidTokenError) && !(error instanceof URIError)) throw error;
    return page(
      deps.templates,
      400,
      deps.lang,
      { title: t.invalidLinkTitle, text: t.invalidLinkText },
      proofHeaders,
    );
  }
  if (!proof) return notFound();
  const file = (name: ProofFile) => proofKeys.file(proof.campaign, proof.hash, name);
  const base = `${proofPath}${encodeURIComponent(token)}`;

  if (part === 'email' || part === 'page') {
    const html = await getText(deps.store, file(part === 'email' ? 'email.html' : 'page.html'));
    if (html === undefined) return notFound();
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        ...proofHeaders,
        'content-security-policy': part === 'email' ? proofEmailSecurityPolicy : pageContentSecurityPolicy,
      },
      body: html,
    };
  }
  if (part === 'pdf') {
    const pdf = proof.files.pdf ? await deps.store.get(file('release.pdf')) : undefined;
    if (!pdf) return notFound();
    // No Content-Security-Policy: Chrome's PDF viewer does not run under one (site-headers.ts).
    return {
      status: 200,
      headers: {
        'content-type': 'application/pdf',
        ...proofHeaders,
        'content-disposition': contentDisposition(`${proof.campaign}-proof.pdf`, 'inline'),
      },
      body: Buffer.from(pdf.body).toString('base64'),
      isBase64Encoded: true,
    };
  }

  let template = templates.get(deps.templates);
  if (!template) {
    template = Handlebars.create().compile(deps.templates.pages.proof);
    templates.set(deps.templates, template);
  }
  const l = labels[deps.lang];
  const zone = deps.timeZone ?? 'UTC';
  const body = template({
    lang: deps.lang,
    labels: l,
    subject: proof.subject,
    from: `${proof.from.name} <${proof.from.address}>`,
    replyTo: proof.replyTo,
    what: whatOf(proof.definition, l),
    title: proof.title,
    audience: describeAudience(proof.definition.audience, l),
    sample: `${proof.sample.name} <${proof.sample.email}>`,
    version: proof.hash.slice(0, 12),
    createdAt: showTime(proof.createdAt, zone),
    expiresAt: showTime(expiresAt, zone),
    approvalRequired: proof.approvalRequired,
    text: (await getText(deps.store, file('email.txt'))) ?? '',
    emailUrl: `${base}/email`,
    ...(proof.files.page && { pageUrl: `${base}/page` }),
    ...(proof.files.pdf && { pdfUrl: `${base}/pdf` }),
    omitted: proof.omitted?.includes('release.pdf') ? [l.tooLarge] : [],
  });
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...proofHeaders,
      'content-security-policy': proofPageSecurityPolicy,
    },
    body,
  };
}
