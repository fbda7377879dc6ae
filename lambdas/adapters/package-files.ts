import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of pressroom's own package.json: the templates, schemas and examples it ships
 * sit there. Found by walking up from this module, so that it holds in a clone (this file is
 * under lambdas/adapters/), in the compiled command (bundled into dist/) and in an installed
 * package (node_modules/<name>/dist/). Where there is no package.json above (a Lambda
 * bundle), it is this module's folder: the handlers name their templates in their settings.
 */
export const packageRoot: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

/** A file or folder that pressroom ships (`templates/`, `schemas/`, `examples/`), as an absolute path. */
export function packageFile(relative: string): string {
  return path.join(packageRoot, relative);
}
