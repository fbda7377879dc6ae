import path from 'node:path';
import { loadTemplateFiles } from '../adapters/template-files.ts';
import type { TemplateSet } from '../core/render/templates.ts';
import { cached } from './runtime.ts';

/**
 * The templates of the functions that render (publish, public), apart from runtime.ts so
 * that the others do not load the template reader and its YAML parser.
 */

const templateSets = new Map<string, () => Promise<TemplateSet>>();

/**
 * The template folder bundled with the function (PRESSROOM_TEMPLATES_DIR), or the project's
 * own `templates/` when none is given; read once per container.
 */
export function templateSet(dir?: string): Promise<TemplateSet> {
  let load = templateSets.get(dir ?? '');
  if (!load) {
    load = cached(() => loadTemplateFiles(dir));
    templateSets.set(dir ?? '', load);
  }
  return load();
}

/**
 * The admin's page templates in the bundled folder (`<dir>/admin`), or undefined for the
 * project's own (each section's loader's default).
 */
export function adminTemplatesDir(dir: string | undefined): string | undefined {
  return dir === undefined ? undefined : path.join(dir, 'admin');
}
