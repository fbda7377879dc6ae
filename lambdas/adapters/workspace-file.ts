import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../core/errors.ts';
import { parseYaml, validate } from '../core/input.ts';
import { limits, publicationLimits } from '../core/limits.ts';
import { type Organization, organizationSchema } from '../core/publication/schema.ts';
import { parseWorkspaceFile, type WorkspaceSettings } from '../core/workspace/settings.ts';
import { findWorkspaceRoot, workspaceFileName } from './workspace-root.ts';

/** A workspace found on disk: its folder, its pressroom.yaml, and what the file says. */
export interface Workspace {
  root: string;
  /** The absolute path of pressroom.yaml. */
  file: string;
  settings: WorkspaceSettings;
}

function isFile(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The workspace `from` belongs to (pressroom.yaml in it or a folder above), read and checked;
 * undefined outside any workspace. Read synchronously: the configuration is read once, at
 * start-up, before anything else. Problems name the file as seen from `cwd`.
 */
export function loadWorkspace(from: string, cwd: string = from): Workspace | undefined {
  const root = findWorkspaceRoot(from);
  if (root === undefined) return undefined;
  const file = path.join(root, workspaceFileName);
  const shown = path.relative(cwd, file) || file;
  const size = lstatSync(file).size;
  if (size > limits.workspaceFileBytes) {
    throw new InvalidInputError([
      {
        file: shown,
        path: '',
        message: `is ${size} bytes, more than the ${limits.workspaceFileBytes} a workspace file may hold: it should be a few settings`,
      },
    ]);
  }
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError([
      { file: shown, path: '', message: `cannot read it (${(error as NodeJS.ErrnoException).code})` },
    ]);
  }
  const settings = parseWorkspaceFile(source, shown, {
    organizationExists: (id) => isFile(path.join(root, 'organizations', `${id}.yaml`)),
  });
  return { root, file, settings };
}

/**
 * The organisation the workspace is for: the first of its `organizations`, as its file
 * `organizations/<id>.yaml` names it (with its French article), else the workspace's `name`;
 * undefined when neither is there. A file that cannot be read or is invalid is passed over
 * here: publishing reports its problems.
 */
export function workspaceOrganization(
  workspace: Workspace,
): Pick<Organization, 'name' | 'article'> | undefined {
  const id = workspace.settings.organizations[0];
  if (id !== undefined) {
    const file = path.join(workspace.root, 'organizations', `${id}.yaml`);
    try {
      if (lstatSync(file).size <= publicationLimits.organizationFile) {
        const org = validate(organizationSchema, parseYaml(readFileSync(file, 'utf8'), file));
        if (org.ok)
          return {
            name: org.value.name,
            ...(org.value.article !== undefined && { article: org.value.article }),
          };
      }
    } catch {
      // Unreadable or not YAML: the workspace's name, if any.
    }
  }
  const name = workspace.settings.name;
  return name === undefined ? undefined : { name };
}
