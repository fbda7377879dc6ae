import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { parseConfig } from '../../lib/config.ts';
import { PressroomStack } from '../../lib/pressroom-stack.ts';
import { cdkJsonContext, repo } from '../infra/stack.ts';

/** A CloudFormation template as JSON. */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** The stack synthesized with its bundles: the template and the folder its assets are in. */
export interface Assembly {
  outdir: string;
  stackName: string;
  template: CfnTemplate;
  /** What stands for the runtime's /var/runtime/node_modules: the AWS SDK alone. */
  runtimeModules: string;
  /** The folder of a resource's asset (`aws:asset:path`), e.g. a function's bundle. */
  assetDir(logicalId: string): string;
  remove(): void;
}

/**
 * `cdk synth` in-process, as cdk.json configures it plus `overrides` (as `-c`), with the
 * functions bundled by the local esbuild exactly as for a deploy. The bundles leave
 * `@aws-sdk/*` to the Lambda runtime: `runtimeModules` holds a link to the project's SDK,
 * found through NODE_PATH as the runtime's is on Lambda. Nothing else of the project's
 * node_modules is within the bundles' reach: what a bundle leaves out must be in a layer.
 */
export function synthWithBundles(overrides: Record<string, unknown> = {}): Assembly {
  // Asset metadata names each function's bundle folder, as the CDK CLI asks for it.
  const context = { ...cdkJsonContext, ...overrides, 'aws:cdk:enable-asset-metadata': true };
  const outdir = mkdtempSync(path.join(tmpdir(), 'pressroom-harness-'));
  try {
    const app = new App({ context, outdir, builtinCloudFormationValidation: false });
    const config = parseConfig(context);
    const stack = new PressroomStack(app, config.stackName, { config });
    const cloud = app.synth();
    const artifact = cloud.getStackByName(stack.stackName);
    const template = JSON.parse(readFileSync(artifact.templateFullPath, 'utf8')) as CfnTemplate;
    const runtimeModules = path.join(outdir, 'runtime', 'node_modules');
    mkdirSync(runtimeModules, { recursive: true });
    symlinkSync(path.join(repo, 'node_modules', '@aws-sdk'), path.join(runtimeModules, '@aws-sdk'), 'dir');
    return {
      outdir,
      runtimeModules,
      stackName: stack.stackName,
      template,
      assetDir(logicalId) {
        const assetPath = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
        if (typeof assetPath !== 'string') throw new Error(`${logicalId} has no asset in the template`);
        return path.resolve(outdir, assetPath);
      },
      remove() {
        rmSync(outdir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
