import { operator } from '../../lambdas/adapters/local-process.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { approveCampaign, makeProof, proofKeys } from '../../lambdas/core/campaigns/proof.ts';
import { showTime } from '../../lambdas/core/campaigns/time.ts';
import type { ProofOptions } from '../commands/proof.ts';
import type { CampaignApproveOptions } from '../commands/send.ts';
import { campaignDefaults, loadConfig, localBackend, openAwsBackend, storeFor } from '../context.ts';
import { print, warn } from '../output.ts';

/**
 * `pressroom proof <campaign.yaml>`: stores the campaign's proof (in the data folder, or the
 * stack's bucket with --backend aws) and prints a signed link to it on the public address:
 * `pressroom serve` answers it locally, the press room's domain on AWS.
 */
export async function proofCampaignFile(file: string, opts: ProofOptions): Promise<void> {
  const config = loadConfig(opts);
  const notices: string[] = [];
  let made: Awaited<ReturnType<typeof makeProof>>;
  let base: string;
  let where: string;
  if (opts.backend === 'aws') {
    const aws = await openAwsBackend();
    const definition = await loadCampaignFile(file, aws.files, campaignDefaults(config), notices);
    made = await makeProof(
      definition,
      { store: aws.store, keys: await aws.signingKeys() },
      { validSeconds: opts.valid, createdBy: operator() },
    );
    base = aws.outputs.PressRoomUrl;
    where = 'the press room’s domain (the public function)';
  } else {
    const backend = await localBackend(config, { pdf: false });
    const definition = await loadCampaignFile(file, backend.files, campaignDefaults(config), notices);
    made = await makeProof(
      definition,
      { store: backend.store, keys: backend.keys },
      { validSeconds: opts.valid, createdBy: operator() },
    );
    base = config.publicUrl;
    where = '`pressroom serve`';
  }
  warn(notices);
  const { record } = made;
  const url = `${base.replace(/\/+$/, '')}/proof/${made.token}`;
  const expiresAt = made.expiresAt.toISOString();
  if (opts.json) {
    return print(
      {
        campaign: record.campaign,
        url,
        expiresAt,
        version: record.hash,
        subject: record.subject,
        from: record.from,
        files: record.files,
        key: proofKeys.file(record.campaign, record.hash, 'proof.json'),
      },
      true,
    );
  }
  print([
    `Proof of ${record.campaign}, version ${record.hash.slice(0, 12)}: "${record.subject}" from ${record.from.name} <${record.from.address}>`,
    `  ${url}`,
    `  valid until ${showTime(expiresAt, config.timeZone)}; served by ${where}`,
    `  shown as a made-up recipient, ${record.sample.name} <${record.sample.email}>, would get it (no real contact)`,
    ...(record.omitted?.length ? [`  left out: the PDF (over 4 MB, more than one response carries)`] : []),
    record.approvalRequired
      ? `  approval: required. Once checked: pressroom campaign approve ${record.campaign} --by "Name"`
      : `  approve it (optional here): pressroom campaign approve ${record.campaign} --by "Name"`,
  ]);
}

/** `pressroom campaign approve <name> --by "Name"`: records who approved the latest proof's version. */
export async function approveCampaignByName(name: string, opts: CampaignApproveOptions): Promise<void> {
  const config = loadConfig(opts);
  const store = await storeFor(opts, config);
  const { approval, proof } = await approveCampaign(
    name,
    opts.by,
    { store },
    { ...(opts.version && { version: opts.version }), recordedBy: operator() },
  );
  if (opts.json) return print(approval, true);
  print([
    `Approved ${name} by ${approval.by}, ${showTime(approval.at, config.timeZone)}: version ${approval.hash.slice(0, 12)}`,
    `  "${proof.subject}" from ${proof.from.name} <${proof.from.address}>, ${proof.title} (${proof.what}), to ${proof.audience}`,
    '  send and schedule take this version only: editing the campaign file or publishing the release again voids the approval.',
  ]);
}
