import type { Template } from 'aws-cdk-lib/assertions';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HandlerName, handlerNames } from '../../lib/functions.ts';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/**
 * `*` resources that AWS requires, and why. Anything else with `*` fails the test.
 * ses:GetSendQuota is account-level: IAM has no resource type for it.
 */
const wildcardAllowlist: Record<string, string> = { 'ses:GetSendQuota': 'account-level action' };

let t: Template;
let bucket: string;
beforeAll(() => {
  t = synth(realSender).template;
  bucket = `<${logicalId(t, 'AWS::S3::Bucket', 'StorageDataBucket')}.Arn>`;
});
afterAll(removeOutdirs);

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const flat = (value: unknown) => flattenCfnReference(value);

/** Every statement any policy gives a role: inline, attached AWS::IAM::Policy, managed. */
function statementsOf(roleId: string): Statement[] {
  const role = t.findResources('AWS::IAM::Role')[roleId]?.Properties;
  expect(role, roleId).toBeDefined();
  const inline = list(role.Policies).flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  );
  const attached = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => list(p.Properties.Roles).some((r: { Ref?: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  return [...inline, ...attached];
}

function roleOf(name: HandlerName): string {
  const f =
    t.findResources('AWS::Lambda::Function')[
      logicalId(t, 'AWS::Lambda::Function', `${name[0]?.toUpperCase()}${name.slice(1)}Function`)
    ];
  return f?.Properties.Role['Fn::GetAtt'][0];
}

/** action → the flattened resources it is allowed on. */
function permissions(name: HandlerName): Map<string, Set<string>> {
  const byAction = new Map<string, Set<string>>();
  for (const st of statementsOf(roleOf(name))) {
    expect(st.Effect).toBe('Allow');
    for (const action of list(st.Action)) {
      const set = byAction.get(action) ?? new Set<string>();
      for (const r of list(st.Resource)) set.add(flat(r));
      byAction.set(action, set);
    }
  }
  return byAction;
}

/** The key patterns of the data bucket an action is allowed on. */
function keys(perms: Map<string, Set<string>>, action: string): string[] {
  return [...(perms.get(action) ?? [])]
    .map((r) => {
      expect(r.startsWith(`${bucket}/`), `${action} on ${r}`).toBe(true);
      return r.slice(bucket.length + 1);
    })
    .sort();
}

describe('least privilege', () => {
  it('no policy in the stack allows a "*" resource, except where AWS requires it', () => {
    const policies = [
      ...Object.values(t.findResources('AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument),
      ...Object.values(t.findResources('AWS::IAM::Role')).flatMap((r) =>
        list(r.Properties.Policies).map((p: { PolicyDocument: unknown }) => p.PolicyDocument),
      ),
    ];
    const offending: string[] = [];
    for (const doc of policies as { Statement: Statement[] }[]) {
      for (const st of doc.Statement) {
        if (st.Effect !== 'Allow') continue;
        const actions = list(st.Action);
        for (const action of actions) expect(action, 'no wildcard action').not.toContain('*');
        if (list(st.Resource).some((r) => r === '*') && !actions.every((a) => a in wildcardAllowlist)) {
          offending.push(JSON.stringify(st));
        }
      }
    }
    expect(offending).toEqual([]);
    // The allowlist is used where it is meant to be, and nowhere else.
    expect(permissions('send').get('ses:GetSendQuota')).toEqual(new Set(['*']));
  });

  it('no function role has a managed policy or an inline policy', () => {
    for (const name of handlerNames) {
      const role = t.findResources('AWS::IAM::Role')[roleOf(name)]?.Properties;
      expect(role.ManagedPolicyArns, name).toBeUndefined();
      expect(role.Policies, name).toBeUndefined();
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });

  const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  const sqsConsumer = [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ];
  const expectedActions: Record<HandlerName, string[]> = {
    publish: [
      ...logs,
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      // An embargoed release's lift (tests/infra/embargoes.test.ts), deleted when the release
      // is withdrawn under its embargo, and a release's topic alert, deleted when its release
      // is no longer public.
      'scheduler:CreateSchedule',
      'scheduler:UpdateSchedule',
      'scheduler:DeleteSchedule',
      'iam:PassRole',
      // Its dead-letter queue (an event it failed on three times).
      'sqs:SendMessage',
    ],
    // DeleteObject: the sending hold (lib/monitoring.ts) and the staged batches.
    dispatch: [
      ...logs,
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      'sqs:SendMessage',
      // Pacing by the SES quota: the quota, and the next day's slice (lib/scheduling.ts).
      'ses:GetSendQuota',
      'scheduler:CreateSchedule',
      'scheduler:UpdateSchedule',
      'iam:PassRole',
      // The ledger: which recipients have an entry, and those entries (no write).
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
    ],
    send: [
      ...logs,
      ...sqsConsumer,
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      // The ledger: claims and outcomes (TransactWriteItems is authorized as its puts and updates).
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'ses:SendRawEmail',
      'ses:GetSendQuota',
      'secretsmanager:GetSecretValue',
      // SES's daily quota used up with no next slice planned: the next quota window (lib/scheduling.ts).
      'scheduler:CreateSchedule',
      'scheduler:UpdateSchedule',
      'iam:PassRole',
    ],
    feedback: [
      ...logs,
      'sqs:SendMessage',
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      'secretsmanager:GetSecretValue',
    ],
    public: [
      ...logs,
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      'ses:SendRawEmail',
      'secretsmanager:GetSecretValue',
    ],
    // Saves, creates and publishes publication files (the publish function makes the release);
    // withdrawing writes a request the publish function acts on (docs/aws.md, "Withdrawing"):
    // nothing of the archive or the press room written or deleted.
    // Its contacts section: imports, unsubscribes and erasures (with the old versions of what
    // held the person, docs/aws.md "The web admin"), a contact's history from the ledger table.
    // Campaigns (lib/admin-campaigns.ts): hands sends to dispatch, puts and deletes the
    // campaigns' schedules (their role passed to Scheduler), reads the ledger table.
    admin: [
      ...logs,
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'iam:PassRole',
      'lambda:InvokeFunction',
      's3:ListBucket',
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      's3:ListBucketVersions',
      's3:DeleteObjectVersion',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
      'secretsmanager:GetSecretValue',
    ],
  };

  it.each(handlerNames)('%s has exactly the actions it uses', (name) => {
    expect([...permissions(name).keys()].sort()).toEqual([...expectedActions[name]].sort());
  });

  // A campaign's release (and its versions in other languages) or issue, audience, record.
  const campaignReads = [
    'archive/*',
    'campaigns/*',
    'catalog/translations.json',
    'contacts/*',
    'newsletters/*',
    'suppressions/*',
  ];
  const expectedKeys: Record<HandlerName, { get: string[]; put: string[]; delete: string[] }> = {
    publish: {
      // Topic alerts: the lists of config/lists.yaml, and the alerts' campaigns. Digests: who
      // chose one (contacts and suppressions), and the time the last one covered.
      get: [
        'alerts/digests/*',
        'archive/*',
        'campaigns/*',
        'catalog/*',
        'config/lists.yaml',
        'contacts/*',
        'newsletters/*',
        'organizations/*',
        'publications/*',
        'site/*',
        'suppressions/*',
      ],
      put: [
        'alerts/digests/*',
        'archive/*',
        'campaigns/*',
        'catalog/*',
        'newsletters/*',
        'publications/*.errors.json',
        'site/*',
      ],
      delete: ['archive/*', 'newsletters/*', 'publications/*.errors.json', 'site/*'],
    },
    dispatch: {
      get: campaignReads,
      put: ['campaigns/*'],
      delete: ['campaigns/*/staging/*', 'campaigns/hold.json'],
    },
    send: {
      get: campaignReads,
      put: ['campaigns/*'],
      delete: [],
    },
    feedback: {
      get: ['campaigns/*', 'contacts/*', 'suppressions/*'],
      put: ['campaigns/*', 'contacts/*', 'suppressions/*'],
      delete: ['contacts/shards/*'],
    },
    public: {
      // proofs/*: the proofs it shows at /proof/<token>. Advance copies: a release's
      // manifest, archived page and PDF, its images' web sizes and thumbnails, nothing else
      // of archive/ (not the originals under files/).
      get: [
        'archive/*/images/thumbs/*',
        'archive/*/images/web/*',
        'archive/*/page.html',
        'archive/*/release.json',
        'archive/*/release.pdf',
        'config/*',
        'contacts/*',
        'proofs/*',
        'subscriptions/*',
        'suppressions/*',
      ],
      // Opens and clicks of tracked campaigns: written, never read back nor deleted.
      put: ['campaigns/*/events/*', 'contacts/*', 'subscriptions/*', 'suppressions/*'],
      delete: ['contacts/shards/*', 'subscriptions/*'],
    },
    // The uploaded publications (with their organisations and attachments), each release's
    // manifest; writes the publication files it saves and creates, and nothing else.
    // Its contacts section: contacts and suppressions, the lists of config/lists.yaml, what
    // campaigns and subscriptions hold on a person (a profile; removed by an erasure).
    // Campaigns: their files, records, proofs and approvals, what they send, their audience.
    // Newsletters, withdrawal requests and sign-outs (lib/admin-newsletters.ts).
    admin: {
      get: [
        'admin/signed-out/*',
        'archive/*',
        'archive/*/publication.json',
        'archive/*/release.json',
        'campaign-files/*',
        'campaigns/*',
        'campaigns/*/events/*',
        'campaigns/*/feedback/*',
        'campaigns/index.json',
        'catalog/*',
        'catalog/years.json',
        'catalog/years/*',
        'config/lists.yaml',
        'contacts/*',
        'newsletters/*',
        'newsletters/*/issue.json',
        'proofs/*',
        'publications/*',
        'subscriptions/pending/*',
        'suppressions/*',
      ],
      put: [
        'admin/signed-out/*',
        'campaign-files/*.yaml',
        'campaigns/*/approval.json',
        'campaigns/*/campaign.json',
        'campaigns/index.json',
        'campaigns/schedule.json',
        'contacts/*',
        'proofs/*',
        'publications/*.md',
        'publications/withdrawals/*.json',
        'suppressions/*',
      ],
      delete: [
        'campaigns/*/events/*',
        'campaigns/*/feedback/*',
        'contacts/*',
        'subscriptions/pending/*',
        'subscriptions/throttle/address/*',
      ],
    },
  };

  it.each(handlerNames)('%s reads, writes and deletes only its own keys of the data bucket', (name) => {
    const perms = permissions(name);
    expect(keys(perms, 's3:GetObject')).toEqual(expectedKeys[name].get);
    expect(keys(perms, 's3:PutObject')).toEqual(expectedKeys[name].put);
    expect(keys(perms, 's3:DeleteObject')).toEqual(expectedKeys[name].delete);
    // Listing is on the bucket itself: without it S3 says 403 for a missing key, not 404.
    expect(perms.get('s3:ListBucket')).toEqual(new Set([bucket]));
  });

  it('only the functions that handle contacts (publish: for digests) can read them; only those that sign or derive ids get the secret', () => {
    const withContacts = handlerNames.filter((n) =>
      keys(permissions(n), 's3:GetObject').includes('contacts/*'),
    );
    // publish: the people who chose a digest of topic alerts, read to group them.
    // admin: a campaign's audience counted, as the compose form shows it.
    expect(withContacts).toEqual(['publish', 'dispatch', 'send', 'feedback', 'public', 'admin']);
    const secret = `<${logicalId(t, 'AWS::SecretsManager::Secret', 'SigningSecret')}>`;
    // public also reads the origin secret CloudFront sends it (tests/infra/domain.test.ts).
    const originSecret = `<${logicalId(t, 'AWS::SecretsManager::Secret', 'SiteOriginSecret')}>`;
    // admin reads the origin secret and its own (app client id, session key), found by name.
    // Named after the stack's id (a new name after a destroy), never a reference (lib/admin.ts).
    const stackUuid = JSON.stringify({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] });
    const adminSecret = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pressroom-admin-${stackUuid}-??????`;
    for (const name of handlerNames) {
      const allowed = permissions(name).get('secretsmanager:GetSecretValue');
      const needsIt = name === 'send' || name === 'feedback' || name === 'public';
      const expected = name === 'public' ? [secret, originSecret] : [secret];
      // admin also signs proof links with the signing secret (its campaigns section).
      if (name === 'admin') expect(allowed, name).toEqual(new Set([originSecret, adminSecret, secret]));
      else expect(allowed, name).toEqual(needsIt ? new Set(expected) : undefined);
    }
  });

  it("no function may read or delete old object versions but the admin's erasure, on what held the person", () => {
    for (const name of handlerNames) {
      const perms = permissions(name);
      const actions = [...perms.keys()].filter((a) => /Version|^s3:\*$|^\*$/.test(a));
      if (name !== 'admin') {
        expect(actions, name).toEqual([]);
        continue;
      }
      expect(actions.sort()).toEqual(['s3:DeleteObjectVersion', 's3:ListBucketVersions']);
      expect(perms.get('s3:ListBucketVersions')).toEqual(new Set([bucket]));
      // Never s3:GetObjectVersion: an old copy is removed, never read.
      expect(keys(perms, 's3:DeleteObjectVersion')).toEqual([
        'campaigns/*/events/*',
        'campaigns/*/feedback/*',
        'campaigns/*/ledger/*',
        'contacts/shards/*',
        'subscriptions/pending/*',
        'subscriptions/throttle/address/*',
        'suppressions/shards/*',
      ]);
    }
  });

  it('SES sending is allowed on the identity and the configuration set only', () => {
    const identity = `<${logicalId(t, 'AWS::SES::EmailIdentity', 'MailIdentity')}>`;
    const configSet = logicalId(t, 'AWS::SES::ConfigurationSet', 'MailConfigurationSet');
    const expected = new Set([
      `arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/${identity}`,
      `arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:configuration-set/<${configSet}>`,
    ]);
    for (const name of ['send', 'public'] as const) {
      expect(permissions(name).get('ses:SendRawEmail'), name).toEqual(expected);
    }
  });

  it("publish puts and deletes schedules in the lifts' and the campaigns' groups only, and passes only the lifts' and the campaigns' scheduler roles, to Scheduler only", () => {
    const perms = permissions('publish');
    const group = (id: string) =>
      `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${
        Object.values(t.findResources('AWS::Scheduler::ScheduleGroup')).find((g) =>
          String(g.Properties.Name).startsWith(`Pressroom-${id}-`),
        )?.Properties.Name
      }/*`;
    const [lifts, campaigns] = [group('EmbargoLifts-Group'), group('Scheduling-Campaigns')];
    // Deleting in the lifts' group: the lift of a release withdrawn under its embargo.
    for (const action of ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'])
      expect(perms.get(action), action).toEqual(new Set([lifts, campaigns]));
    expect(perms.get('iam:PassRole')).toEqual(
      new Set([
        `<${logicalId(t, 'AWS::IAM::Role', 'EmbargoLiftsSchedulerRole')}.Arn>`,
        `<${logicalId(t, 'AWS::IAM::Role', 'SchedulingSchedulerRole')}.Arn>`,
      ]),
    );
    const passRoles = statementsOf(roleOf('publish')).filter((s) => list(s.Action).includes('iam:PassRole'));
    for (const s of passRoles)
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it('queue access: dispatch sends to the queue, send consumes it, nobody else touches it; failed events go to the dead-letter queue of their function', () => {
    const queue = `<${logicalId(t, 'AWS::SQS::Queue', 'SendingQueue')}.Arn>`;
    const deadLetters = (id: string) => `<${logicalId(t, 'AWS::SQS::Queue', id)}.Arn>`;
    expect(permissions('dispatch').get('sqs:SendMessage')).toEqual(
      new Set([queue, deadLetters('DispatchDeadLetterQueue')]),
    );
    expect(permissions('publish').get('sqs:SendMessage')).toEqual(
      new Set([deadLetters('PublishDeadLetterQueue')]),
    );
    for (const action of sqsConsumer) expect(permissions('send').get(action)).toEqual(new Set([queue]));
    const feedbackDlq = `<${logicalId(t, 'AWS::SQS::Queue', 'FeedbackDeadLetterQueue')}.Arn>`;
    expect(permissions('feedback').get('sqs:SendMessage')).toEqual(new Set([feedbackDlq]));
  });

  it('the ledger table: send, dispatch and the admin only, on the table alone (no index, no scan; deleting, the admin only)', () => {
    const table = `<${logicalId(t, 'AWS::DynamoDB::Table', 'LedgerTable')}.Arn>`;
    for (const name of handlerNames) {
      const actions = [...permissions(name)].filter(([action]) => action.startsWith('dynamodb:'));
      // The admin reads a contact's entries, and removes them when it erases the contact; it
      // reads the counters (progress, report), as `campaign status --backend aws`.
      if (name === 'admin')
        expect(actions.map(([a]) => a).sort(), name).toEqual([
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
      else {
        if (name !== 'send' && name !== 'dispatch') expect(actions, name).toEqual([]);
        expect(actions.map(([a]) => a)).not.toContain('dynamodb:DeleteItem');
      }
      for (const [action, resources] of actions)
        expect(resources, `${name} ${action}`).toEqual(new Set([table]));
    }
  });

  it('each function writes logs only to its own log group', () => {
    for (const name of handlerNames) {
      const f = Object.values(t.findResources('AWS::Lambda::Function')).find(
        (x) => x.Properties.Role['Fn::GetAtt'][0] === roleOf(name),
      );
      const group = `<${f?.Properties.LoggingConfig.LogGroup.Ref}.Arn>`;
      for (const action of logs) expect(permissions(name).get(action), name).toEqual(new Set([group]));
    }
  });
});
