import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { CampaignFiles } from '../core/admin/campaigns.ts';
import type { CampaignTemplates } from '../core/admin/campaigns-pages.ts';
import { PressroomError } from '../core/errors.ts';
import type { SourceFiles } from '../core/publication/load.ts';
import { createFileOnce } from './admin-files.ts';
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
      if (workspaceRoot === undefined)
        throw new PressroomError(
          'no workspace, so no campaigns folder to write in: run `pressroom serve` inside one (`pressroom init` makes one)',
        );
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
  const dir = path.join(workspaceRoot, 'organizations');
  for (const name of (await readdir(dir).catch(missingAsEmpty)).filter((n) => n.endsWith('.yaml')).sort()) {
    try {
      const data = parse(await readFile(path.join(dir, name), 'utf8')) as {
        name?: unknown;
        email?: unknown;
      } | null;
      if (typeof data?.name === 'string' && typeof data.email === 'string' && !/[<>\r\n]/.test(data.name))
        found.push(`${data.name} <${data.email}>`);
    } catch {
      // A file that does not parse offers no sender; `pressroom render` reports it.
    }
  }
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
