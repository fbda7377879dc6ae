import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { definition, importJournalists, journalist } from '../support/dispatch-fixtures.ts';
import { uploadRelease } from '../support/harness-campaigns.ts';
import type { SentMail } from './edge.ts';
import {
  dispatchFunction,
  type HarnessWorld,
  mailTo as mailWorld,
  takeDenials,
  trackedHtml,
  useHarness,
} from './world.ts';

/**
 * The stack deployed with `-c awsSdk=bundled` (lib/config.ts): every function carries the parts
 * of the AWS SDK it calls inside its bundle instead of loading the Lambda runtime's. The same
 * path as a release's life, through the real bundles as the template wires them: publish,
 * dispatch, send through SES, an SES event to feedback, a click through public. Each call is
 * signed by the function's own role and checked against it, as with the runtime's SDK.
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14, awsSdk: 'bundled' };
const name = 'etude-sdk-embarque';
const recipients = 3;

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);

const mailTo = (address: string): SentMail => mailWorld(world, address);

describe('the stack synthesized with awsSdk=bundled', () => {
  // The first calls start the functions' containers: on a busy machine, longer than a test's default.
  const slow = 180_000;

  it('bundles the SDK into every function: none imports an @aws-sdk package from the runtime', () => {
    expect(world.functions.length).toBeGreaterThanOrEqual(6);
    for (const f of world.functions) {
      const code = readFileSync(f.entry, 'utf8');
      expect(code.match(/from\s*["']@aws-sdk\/[^"']+/g), f.logicalId).toBeNull();
      expect(code.match(/import\(\s*["']@aws-sdk\/[^"']+/g), f.logicalId).toBeNull();
    }
  });

  it(
    'publishes a release, then dispatches and sends a campaign through SES',
    async () => {
      const [published] = await uploadRelease(world, 'etude');
      expect(published?.invocation).toMatchObject({ ok: true });
      await importJournalists(world.store, contactKeys(world.secret), recipients);
      await startCampaign(
        definition(name, {
          from: { name: 'Villes Internet', address: context.sender },
          tracking: { opens: false, clicks: true },
        }),
        { store: world.store, dispatcher: dispatchFunction(world) },
        `campaigns/${name}.yaml`,
      );
      const deliveries = await world.drainQueues();
      expect(deliveries.map((d) => d.invocation)).toEqual([
        expect.objectContaining({ ok: true, result: { batchItemFailures: [] } }),
      ]);
      expect(world.edge.mails.map((m) => m.destinations[0]).sort()).toEqual(
        Array.from({ length: recipients }, (_, i) => journalist(i)).sort(),
      );
      const status = await campaignStatus(world.store, name, new Date(), world.ledger);
      expect({ state: status.state, sent: status.sent }).toEqual({ state: 'sent', sent: recipients });
      expect(denials()).toEqual([]);
    },
    slow,
  );

  it(
    'an SES bounce reaches feedback, and a click reaches public through the press room',
    async () => {
      const [bounced] = await world.publishSesEvent(mailTo(journalist(1)), 'Bounce');
      expect(bounced?.function).toMatch(/^FeedbackFunction/);
      expect(bounced?.invocation).toEqual(
        expect.objectContaining({ ok: true, result: expect.objectContaining({ applied: 1 }) }),
      );
      const { link } = await trackedHtml(world, journalist(0));
      expect(link).toBeDefined();
      const click = await world.siteRequest(link as string, { method: 'GET' });
      expect(click.function).toMatch(/^PublicFunction/);
      expect(click.invocation.ok && click.invocation.result.statusCode).toBe(302);
      expect(denials()).toEqual([]);
    },
    slow,
  );
});
