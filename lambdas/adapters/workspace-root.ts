import { lstatSync } from 'node:fs';
import path from 'node:path';

/** The file that makes a folder a pressroom workspace (docs/workspace.md). */
export const workspaceFileName = 'pressroom.yaml';

/**
 * The workspace a path belongs to: the nearest folder, from `from` upwards, that holds a
 * regular `pressroom.yaml` (like git looks for `.git`). Undefined outside any workspace.
 */
export function findWorkspaceRoot(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    try {
      if (lstatSync(path.join(dir, workspaceFileName)).isFile()) return dir;
    } catch {
      // not here: look in the parent
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
