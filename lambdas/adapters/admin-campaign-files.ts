import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CampaignFiles } from '../core/admin/campaigns.ts';
import type { CampaignTemplates } from '../core/admin/campaigns-pages.ts';
import { NoWorkspaceError } from '../core/errors.ts';
import type { SourceFiles } from '../core/publication/load.ts';
import { createFileOnce, workspaceOrganizations } from './admin-files.ts';
import { defaultTemplatesDir } from './template-files.ts';

/**
 * The admin's campaigns on disk: the workspace's `campaigns/*.yaml` (read inside the
 * workspace, created whole and never over another), its organisations as senders, and the
 * campaigns' page templates.
 */

const missingAsEmpty = (error: NodeJS.ErrnoException): string[] => {
  if (error.code === 'ENOENT') return [];
  throw error;
};

/** The campaign files of a workspace (none without one: `serve --data-dir` outside a workspace). */
export function workspaceCampaignFiles(workspaceRoot: string | undefined, files: SourceFiles): CampaignFiles {
  const folder = path.join(workspaceRoot ?? process.cwd(), 'campaigns');
  return {
    folder,
    files,
    async list() {
      if (workspaceRoot === undefined) return [];
      const names = await readdir(folder).catch(missingAsEmpty);
      return names
        .filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.'))
        .sort()
        .map((n) => ({ path: path.join(folder, n), name: path.join('campaigns', n) }));
    },
    // Never over a file: two creations at once, one wins (admin-files.ts's createFileOnce).
    async create(name, text) {
      if (workspaceRoot === undefined) throw new NoWorkspaceError(`campaigns/${name}`);
      if (path.basename(name) !== name || name.startsWith('.') || !name.endsWith('.yaml'))
        throw new Error(`"${name}" is not a campaign file name`);
      if ((await createFileOnce(folder, name, text)) === 'exists') return 'exists';
      return { path: path.join(folder, name), name: path.join('campaigns', name) };
    },
  };
}

/**
 * The senders the compose form offers: the workspace's sender, then each organisation with
 * an `email` (`organizations/*.yaml`), as `"Name <address>"`.
 */
export async function workspaceSenders(
  workspaceRoot: string | undefined,
  sender: { name: string; address: string } | undefined,
): Promise<string[]> {
  const found = sender ? [`${sender.name} <${sender.address}>`] : [];
  if (workspaceRoot === undefined) return found;
  // A file with problems offers no sender; `pressroom render` reports them.
  for (const { organization } of await workspaceOrganizations(workspaceRoot))
    if (organization?.email && !/[<>\r\n]/.test(organization.name))
      found.push(`${organization.name} <${organization.email}>`);
  return [...new Set(found)];
}

/** Reads `templates/admin/campaigns-*.html.hbs`. */
export async function loadCampaignTemplates(
  dir = path.join(defaultTemplatesDir, 'admin'),
): Promise<CampaignTemplates> {
  const read = (page: string) => readFile(path.join(dir, `campaigns-${page}.html.hbs`), 'utf8');
  return {
    list: await read('list'),
    compose: await read('compose'),
    campaign: await read('campaign'),
    confirm: await read('confirm'),
    progress: await read('progress'),
    report: await read('report'),
  };
}
