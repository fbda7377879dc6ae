import path from 'node:path';
import { runDueDigests } from '../../lambdas/core/alerts/digest.ts';
import { scheduleCampaign } from '../../lambdas/core/campaigns/schedule.ts';
import { publishIssue } from '../../lambdas/core/newsletter/publish.ts';
import { withSourceText } from '../../lambdas/core/publication/load.ts';
import { type LocalBackend, subscriptionLists } from '../context.ts';
import { issueDeps } from './newsletter.ts';

/**
 * The digests of topic alerts as `serve` and `run-due` run them (alerts/digest.ts): undefined
 * when no list of the workspace offers a daily or weekly digest. Each call publishes the
 * digests that are due as private newsletter issues and schedules their campaigns at once;
 * it returns a line per campaign, for the log.
 */
export function localDigests(backend: LocalBackend): (() => Promise<string[]>) | undefined {
  const config = backend.config;
  const workspace = config.workspace;
  const offered = Object.values(config.lists).some(
    (l) => l.topics && l.frequencies?.some((f) => f !== 'immediate'),
  );
  if (!workspace || !offered) return undefined;
  return async () => {
    // A failure is told, and the due campaigns still go: the digest is tried again next round.
    return makeDigests().catch((error: unknown) => [`digests not made: ${(error as Error).message}`]);
  };
  async function makeDigests(): Promise<string[]> {
    if (!workspace) return [];
    const { lists } = await subscriptionLists(undefined, config);
    const outcomes = await runDueDigests({
      store: backend.store,
      lists,
      timeZone: config.timeZone,
      publishers: workspace.organizations,
      async publishIssue(id, markdown) {
        // Written nowhere: the issue is read from memory, its organisations from the workspace.
        const file = path.join(workspace.root, 'newsletters', `${id}.md`);
        await publishIssue(
          file,
          { ...issueDeps(backend), files: withSourceText(backend.files, file, markdown) },
          { replace: true },
        );
      },
      // Due at its sendAt, which is now: the runner sends it in the same round.
      schedule: (definition, source) =>
        scheduleCampaign(
          definition,
          { store: backend.store, clock: () => new Date(Date.parse(definition.sendAt?.utc ?? '') - 1) },
          source,
        ),
    });
    return outcomes.flatMap((o) =>
      o.campaigns.map(
        (c) =>
          `${o.frequency} digest of ${o.list}: ${c.name}, ${c.releases.length} release(s) for ${c.people} people`,
      ),
    );
  }
}
