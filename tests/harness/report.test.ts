import { describe, expect, it } from 'vitest';
import { startCampaign } from '../../lambdas/core/campaigns/remote.ts';
import { campaignReport } from '../../lambdas/core/campaigns/report.ts';
import { trackingKeys } from '../../lambdas/core/campaigns/tracking.ts';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { listAll } from '../../lambdas/core/store/object-store.ts';
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
 * The delivery report on the stack as its template wires it: a campaign that tracks opens and
 * clicks is dispatched and sent through SES; the real feedback bundle receives SES Delivery
 * and Bounce events through the configuration set's SNS destination; a recipient's click and
 * open reach the public function through the press room's domain (CloudFront's behaviours,
 * the function's role: put under campaigns/*\/events/* only), which records them and
 * redirects; `campaign report` (what `--backend aws` runs on the bucket) shows it all.
 */

const context = { sender: 'presse@villes-internet.net', sendRate: 14 };
const name = 'etude-suivie';

let world: HarnessWorld;
useHarness(context, (started) => {
  world = started;
});

const denials = (): string[] => takeDenials(world);

const mailTo = (address: string): SentMail => mailWorld(world, address);

describe('the delivery report on the stack as synthesized', () => {
  // The first calls start the functions' containers: on a busy machine, longer than a test's default.
  const slow = 180_000;

  it(
    'the release is published by the publish function',
    async () => {
      const [published] = await uploadRelease(world, 'etude');
      expect(published?.invocation).toMatchObject({ ok: true });
    },
    slow,
  );

  it(
    'a tracked campaign is dispatched and sent through SES',
    async () => {
      await importJournalists(world.store, contactKeys(world.secret), 3);
      await startCampaign(
        definition(name, {
          from: { name: 'Villes Internet', address: context.sender },
          tracking: { opens: true, clicks: true },
        }),
        { store: world.store, dispatcher: dispatchFunction(world) },
        `campaigns/${name}.yaml`,
      );
      await world.drainQueues();
      expect(world.edge.mails.map((m) => m.destinations[0]).sort()).toEqual([0, 1, 2].map(journalist).sort());
      expect(denials()).toEqual([]);
    },
    slow,
  );

  it(
    'SES events as the template routes them: a Delivery and a Bounce reach the feedback bundle',
    async () => {
      const deliveries = [
        ...(await world.publishSesEvent(mailTo(journalist(0)), 'Delivery')),
        ...(await world.publishSesEvent(mailTo(journalist(1)), 'Bounce')),
      ];
      expect(deliveries.map((d) => d.function)).toEqual(
        Array(2).fill(expect.stringMatching(/^FeedbackFunction/)),
      );
      expect(deliveries.map((d) => d.invocation)).toEqual(
        Array(2).fill(expect.objectContaining({ ok: true, result: expect.objectContaining({ applied: 1 }) })),
      );
      expect(denials()).toEqual([]);
    },
    slow,
  );

  it(
    "a click and an open through the press room's domain are recorded by public, and the click redirects",
    async () => {
      const { html, link } = await trackedHtml(world, journalist(0));
      const site = world.outputs.PressRoomUrl as string;
      const pixel = /src="([^"]+\/o\/[^"]+\.gif)"/.exec(html)?.[1];
      expect(link).toBeDefined();
      expect(pixel?.startsWith(`${site}o/`)).toBe(true);
      const click = await world.siteRequest(link as string, { method: 'GET' });
      expect(click.function).toMatch(/^PublicFunction/);
      const answer = click.invocation.ok ? click.invocation.result : undefined;
      expect(answer?.statusCode).toBe(302);
      expect(answer?.headers?.location).toMatch(/^https:\/\//);
      expect(answer?.headers?.location).not.toContain('/c/');
      const open = await world.siteRequest(pixel as string, { method: 'GET' });
      const image = open.invocation.ok ? open.invocation.result : undefined;
      expect(image).toMatchObject({ statusCode: 200, isBase64Encoded: true });
      expect(
        Buffer.from(image?.body ?? '', 'base64')
          .subarray(0, 6)
          .toString(),
      ).toBe('GIF89a');
      // A changed token is refused: nothing recorded, no redirect.
      const forged = await world.siteRequest(`${link}x`, { method: 'GET' });
      expect(forged.invocation.ok && forged.invocation.result.statusCode).toBe(404);
      const events: string[] = [];
      for await (const item of listAll(world.store, trackingKeys.prefix(name))) events.push(item.key);
      const id = contactKeys(world.secret).idOf(journalist(0));
      expect(events).toEqual([
        expect.stringMatching(new RegExp(`^campaigns/${name}/events/${id}/click-`)),
        expect.stringMatching(new RegExp(`^campaigns/${name}/events/${id}/open-`)),
      ]);
      expect(denials()).toEqual([]);
    },
    slow,
  );

  it('the report: delivered by SES, the bounce with its type, the click and the open, one row each', async () => {
    const report = await campaignReport(world.store, name, world.ledger);
    const row = (i: number) => report.rows.find((r) => r.email === journalist(i));
    expect(report.counts).toMatchObject({
      recipients: 3,
      sent: 3,
      delivered: 1,
      bounced: 1,
      hardBounced: 1,
      opened: 1,
      clicked: 1,
    });
    expect(report.deliveredBy).toEqual(['provider']);
    expect(row(0)).toMatchObject({
      status: 'sent',
      delivered: { by: 'provider' },
      opened: { count: 1 },
      clicked: { count: 1 },
    });
    expect(row(1)?.bounce).toMatchObject({ type: 'permanent', subType: 'General', status: '5.1.1' });
    expect(row(2)?.delivered).toBeUndefined();
  });

  it('logs: no recipient address in what public and feedback logged', () => {
    for (const prefix of ['Public', 'Feedback']) {
      for (const line of world.container(prefix).logs)
        expect(line).not.toMatch(/journaliste\.\d+@|@exemple\.org/);
    }
  });
});
