import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { uploadKeys } from '../lambdas/core/admin/contacts.ts';
import type { PressroomFunction } from './functions.ts';
import type { LedgerTable } from './ledger-table.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import type { Storage } from './storage.ts';

export interface AdminContactsProps {
  storage: Storage;
  /** The key of contact ids and unsubscribe links: the same ids as the CLI and the other functions. */
  signingSecret: ISecret;
  /** The delivery ledger: a contact's history, and its entries removed by an erasure. */
  ledger: LedgerTable;
}

/**
 * What the contacts section reads: the stack's lists, contacts and suppressions, the campaigns'
 * index and what campaigns and subscriptions hold on a person.
 */
export const adminContactsReads = [
  'config/lists.yaml',
  'contacts/*',
  'suppressions/*',
  'campaigns/index.json',
  'campaigns/*/feedback/*',
  'campaigns/*/events/*',
  'subscriptions/pending/*',
] as const;

/** What it writes: contacts (imports, erasure), their suppressions (unsubscribe, erasure), the staged uploads. */
export const adminContactsWrites = ['contacts/*', 'suppressions/*'] as const;

/**
 * What it deletes: replaced contact shards and staged uploads (contacts/*), and what an erasure
 * removes of a person: a waiting subscription, its rate-limit window, the provider's reports,
 * opens and clicks.
 */
export const adminContactsDeletes = [
  'contacts/*',
  'subscriptions/pending/*',
  'subscriptions/throttle/address/*',
  'campaigns/*/feedback/*',
  'campaigns/*/events/*',
] as const;

/**
 * The old versions an erasure removes (privacy.ts, purgeHistoryOf): every object that held the
 * person. Their versions live a day anyway (Storage's rule on the personal-data prefixes).
 */
export const adminContactsVersionDeletes = [
  'contacts/shards/*',
  'suppressions/shards/*',
  'subscriptions/pending/*',
  'subscriptions/throttle/address/*',
  'campaigns/*/ledger/*',
  'campaigns/*/feedback/*',
  'campaigns/*/events/*',
] as const;

/** Staged uploads left behind are removed by S3 after this (its shortest expiration). */
export const contactUploadsExpireDays = 1;

/**
 * The contacts section of the web admin on the stack (lambdas/handlers/admin-contacts.ts): its
 * settings, the bucket's contacts and suppressions, the signing secret, the ledger, and the
 * lifecycle rule that removes staged uploads S3-side.
 *
 * New in kind for a function: s3:ListBucketVersions and s3:DeleteObjectVersion, which only the
 * command line had. An erasure from the admin removes the old versions of what held the person
 * at once, as `contacts erase` does, instead of leaving them to the lifecycle for up to two
 * days; the objects are those of the personal-data prefixes, whose old versions S3 keeps a day
 * only, so nothing is lost that the bucket would have kept for recovery (docs/aws.md).
 */
export function grantAdminContacts(fn: PressroomFunction, props: AdminContactsProps): void {
  const bucket = props.storage.dataBucket;
  fn.function.addEnvironment('PRESSROOM_SECRET_ARN', props.signingSecret.secretArn);
  fn.function.addEnvironment('PRESSROOM_LEDGER_TABLE', props.ledger.table.tableName);
  props.storage.grantData(fn, {
    read: [...adminContactsReads],
    write: [...adminContactsWrites],
    delete: [...adminContactsDeletes],
  });
  const principal = fn.grantPrincipal;
  principal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.signingSecret.secretArn],
    }),
  );
  // A profile reads the person's entries (BatchGetItem); an erasure deletes them, a transaction
  // of the delete and the campaign counters' update. No query, no scan, no index.
  principal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      resources: [props.ledger.table.tableArn],
    }),
  );
  principal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:ListBucketVersions'], resources: [bucket.bucketArn] }),
  );
  const versions = adminContactsVersionDeletes.map((p) => bucket.arnForObjects(p));
  principal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:DeleteObjectVersion'], resources: versions }),
  );
  for (const resource of versions)
    acknowledgeWildcardResource(
      fn,
      resource,
      'The old versions of the objects an erasure of one person touches (shards, ledger entries, reports): their keys are made from the person and the campaigns, not known in advance.',
    );
  // Uploads hold personal data: the admin removes those over an hour old at each upload, and
  // S3 whatever is left a day after it was written.
  bucket.addLifecycleRule({
    id: 'expire-contact-uploads',
    prefix: uploadKeys.prefix,
    expiration: Duration.days(contactUploadsExpireDays),
    noncurrentVersionExpiration: Duration.days(contactUploadsExpireDays),
  });
}
