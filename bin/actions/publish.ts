import { type AlertOutcome, queueReleaseAlerts } from '../../lambdas/core/alerts/release-alert.ts';
import {
  archiveKeys,
  type ReleaseManifest,
  readManifest,
  stateOf,
} from '../../lambdas/core/archive/manifest.ts';
import { releaseDownloads, siteKeys } from '../../lambdas/core/archive/press-room.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import { planUpload } from '../../lambdas/core/publication/upload.ts';
import type { PublishOptions } from '../commands/publish.ts';
import {
  type LocalConfig,
  loadConfig,
  localBackend,
  localOnly,
  openAwsBackend,
  subscriptionLists,
} from '../context.ts';
import { print, warn } from '../output.ts';
import { refuseLocalPublishOptions, uploadAndAwait } from './stack-upload.ts';

/**
 * `pressroom publish <publication>`: validates, renders and archives a publication in the
 * local store and updates the press room (with a PDF unless --no-pdf); with --backend aws,
 * uploads it for the stack's publish function instead (see publishOnStack).
 */
export async function publishPublication(file: string, opts: PublishOptions): Promise<void> {
  if (opts.backend === 'aws') return publishOnStack(file, opts);
  const config = loadConfig(opts);
  const backend = await localBackend(config, { pdf: opts.pdf });
  try {
    const result = await publishRelease(file, backend, { replace: opts.replace === true });
    warn(result.notices);
    const alerts = opts.alerts === false ? [] : await releaseAlerts(result.slug, config, backend);
    const index = backend.store.fileOf(siteKeys.index);
    if (opts.json) return print({ ...result, alerts, pressRoomIndex: index }, true);
    print([
      `${result.action === 'created' ? 'Published' : result.action === 'updated' ? 'Updated' : 'Replaced'} ${result.slug} (${result.state})`,
      result.url
        ? `  page        ${result.url}`
        : `  not in the public press room (${result.state}); \`pressroom archive link ${result.slug}\` gives signed links`,
      `  PDF         ${result.pdf.stored ? 'stored' : `skipped: ${result.pdf.reason}`}`,
      `  press room  ${index}`,
      ...alerts.map(
        (a) =>
          `  alert       ${a.campaign} ${a.action === 'scheduled' ? `scheduled for ${a.sendAt} UTC` : a.action === 'kept' ? `${a.state}: left as it is (publishing again never alerts twice)` : 'cancelled (the release is not public)'} (topics: ${a.topics.join(', ')})`,
      ),
    ]);
  } finally {
    await backend.close();
  }
}

/** Schedules the release's topic alerts, when the workspace has alert lists (lists with topics). */
async function releaseAlerts(
  slug: string,
  config: LocalConfig,
  backend: Awaited<ReturnType<typeof localBackend>>,
): Promise<AlertOutcome[]> {
  if (!config.workspace || !Object.values(config.lists).some((l) => l.topics)) return [];
  const { lists } = await subscriptionLists(undefined, config);
  const { summary } = await readManifest(backend.store, slug);
  return queueReleaseAlerts(summary, lists, backend);
}

/** `publish --backend aws`: upload under publications/, then wait for the publish function. */
async function publishOnStack(
  file: string,
  opts: { replace?: boolean; templates?: string; json?: boolean; wait: number | false; alerts?: boolean },
): Promise<void> {
  refuseLocalPublishOptions(opts, 'uploads have no --replace: give the publication another "slug"');
  localOnly(
    opts.alerts === false,
    '--no-alerts',
    'the publish function schedules the topic alerts of config/lists.yaml; stop one before it goes with `pressroom campaign cancel alert-<list>-<slug> --backend aws`',
  );
  const aws = await openAwsBackend();
  // Checked here first, with the local loader: problems are shown at once and nothing is uploaded.
  const plan = await planUpload(file, aws.files);
  warn(plan.notices);
  const slug = plan.publication.slug as string;
  const site = aws.outputs.PressRoomUrl.endsWith('/')
    ? aws.outputs.PressRoomUrl
    : `${aws.outputs.PressRoomUrl}/`;
  await uploadAndAwait<ReleaseManifest>(
    aws,
    plan,
    {
      ids: { slug },
      manifestKey: archiveKeys.manifest(slug),
      noun: 'release',
      published(manifest) {
        const summary = manifest.summary;
        const state = stateOf(summary, new Date());
        return [
          `Published ${slug} (${state}) from ${plan.key}`,
          state === 'public'
            ? `  page        ${site}releases/${slug}/${releaseDownloads.page}`
            : `  not in the public press room (${state})`,
          summary.formats.pdf
            ? `  PDF         ${state === 'public' ? `${site}releases/${slug}/${releaseDownloads.pdf}` : 'stored'}`
            : `  PDF         none: the function could not print it (its log says why); upload ${plan.key} again to print it`,
        ];
      },
    },
    opts,
  );
}
