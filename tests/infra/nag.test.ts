import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { PressroomStack } from '../../lib/pressroom-stack.ts';
import { cdkJsonContext, realSender, removeOutdirs, synth } from './stack.ts';

afterAll(removeOutdirs);

const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

/** Every acknowledgement in the tree: where, which finding, why. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const found: { path: string; id: string; reason: string }[] = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/** What AwsSolutionsChecks finds when nothing is acknowledged: finding id → resource paths. */
function rawFindings(root: IConstruct): Map<string, string[]> {
  const pack = new AwsSolutionsChecks(root);
  // The pack checks acknowledgements in a private method; ignore them all to see every finding.
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const report = pack.validateScope(root);
  return new Map(
    report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath ?? '')]),
  );
}

describe('cdk-nag AwsSolutionsChecks', () => {
  it.each([
    ['the cdk.json defaults', {}],
    [
      'a real sender, a custom domain, a high rate and alarm mail',
      {
        ...realSender,
        siteDomain: 'presse.villes-internet.net',
        certificateArn,
        sendRate: 500,
        alarmEmail: 'ops@villes-internet.net',
      },
    ],
    [
      'an existing SES identity and reserved send concurrency',
      { ...realSender, existingSesIdentity: 'villes-internet.net', reservedSendConcurrency: 4 },
    ],
    [
      'an existing signing secret',
      {
        ...realSender,
        signingSecretArn: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:pressroom-AbC123',
      },
    ],
  ])('finds nothing open with %s', (_label, overrides) => {
    // Template.fromStack throws on any open finding.
    expect(() => synth(overrides)).not.toThrow();
  });

  it('would fail the synth on an open finding (the check is live)', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'pressroom-infra-'));
    onTestFinished(() => rmSync(outdir, { recursive: true, force: true }));
    const app = new App({
      context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] },
      outdir,
      builtinCloudFormationValidation: false,
    });
    const stack = new PressroomStack(app, 'Pressroom', {
      config: parseConfig({ ...cdkJsonContext, ...realSender }),
    });
    new Queue(stack, 'Careless'); // no dead-letter queue, no TLS policy
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-SQS3|AwsSolutions-SQS4/);
  });

  it.each([
    ['the defaults', {}],
    ['a custom domain', { ...realSender, siteDomain: 'presse.villes-internet.net', certificateArn }],
  ])(
    'each acknowledgement (%s) has a reason and silences a real finding where it is made',
    (_label, overrides) => {
      const { app } = synth(overrides, { nag: false });
      const findings = rawFindings(app);
      const acks = acknowledgements(app).filter((a) => a.id.startsWith('AwsSolutions-'));
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(40);
        const where = findings.get(ack.id) ?? [];
        expect(
          where.some((p) => p === ack.path || p.startsWith(`${ack.path}/`)),
          `${ack.id} acknowledged on ${ack.path}, found on: ${where.join(', ') || 'nothing'}`,
        ).toBe(true);
      }
      // And every finding is acknowledged somewhere above it.
      for (const [id, paths] of findings) {
        for (const p of paths) {
          expect(
            acks.some((a) => a.id === id && (p === a.path || p.startsWith(`${a.path}/`))),
            `${id} on ${p}`,
          ).toBe(true);
        }
      }
    },
  );

  it('acknowledges wildcard resources one prefix at a time, never the whole rule', () => {
    const { app } = synth(realSender, { nag: false });
    const iam5 = acknowledgements(app).filter((a) => a.id.startsWith('AwsSolutions-IAM5'));
    expect(iam5.map((a) => a.id)).not.toContain('AwsSolutions-IAM5');
    for (const a of iam5) {
      expect(a.id).toMatch(
        /^AwsSolutions-IAM5\[Resource::(<StorageDataBucket[0-9A-F]+\.Arn>\/[a-z]+(-[a-z]+)?((\/shards|\/digests|\/years|\/withdrawals|\/signed-out|\/pending|\/throttle\/address|\/\*\/staging|\/\*\/events|\/\*\/feedback|\/\*\/ledger)?\/\*(\.errors\.json|\.md|\.json|\.yaml)?|\/\*\/(release\.json|publication\.json|issue\.json|page\.html|release\.pdf|campaign\.json|approval\.json|images\/(web|thumbs)\/\*))|\*|arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule\/Pressroom-(EmbargoLifts-Group|Scheduling-Campaigns)-[0-9A-F]+\/\*)\]$/,
      );
    }
    // The schedules of the lifts' group, to publish only: one per embargoed release; those of
    // the campaigns' group, to dispatch and send (a campaign's next day under the SES quota) and
    // publish (a release's topic alert) and the admin (its campaigns section) only.
    expect(
      iam5
        .filter((a) => a.id.includes(':schedule/'))
        .map((a) => `${a.path} ${/Pressroom-([A-Za-z]+)-/.exec(a.id)?.[1]}`)
        .sort(),
    ).toEqual([
      'Pressroom/Admin/Function Scheduling',
      'Pressroom/Dispatch Scheduling',
      'Pressroom/Publish EmbargoLifts',
      'Pressroom/Publish Scheduling',
      'Pressroom/Send Scheduling',
    ]);
    // The only "*": ses:GetSendQuota, of send and dispatch.
    expect(
      iam5
        .filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]')
        .map((a) => a.path)
        .sort(),
    ).toEqual(['Pressroom/Dispatch', 'Pressroom/Send']);
  });
});
