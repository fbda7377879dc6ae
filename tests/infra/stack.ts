import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lib/config.ts';
import { PressroomStack } from '../../lib/pressroom-stack.ts';

export const repo = path.resolve(import.meta.dirname, '../..');

/** cdk.json's context: the feature flags and placeholder values `cdk synth` runs with. */
export const cdkJsonContext: Record<string, unknown> = JSON.parse(
  readFileSync(path.join(repo, 'cdk.json'), 'utf8'),
).context;

export interface Synthesised {
  app: App;
  stack: PressroomStack;
  template: Template;
}

/**
 * The stack as `cdk synth` builds it from cdk.json, with `overrides` as if passed with -c.
 * Bundling is skipped (the synth test does it once). cdk-nag runs unless `nag: false`:
 * an open finding makes this throw. CloudFormation's own validation is left to the synth
 * test (it takes seconds).
 */
export function synth(overrides: Record<string, unknown> = {}, options: { nag?: boolean } = {}): Synthesised {
  const context = { ...cdkJsonContext, ...overrides, 'aws:cdk:bundling-stacks': [] };
  const outdir = mkdtempSync(path.join(tmpdir(), 'pressroom-infra-'));
  outdirs.push(outdir);
  const app = new App({ context, outdir, builtinCloudFormationValidation: false });
  const config = parseConfig(context);
  const stack = new PressroomStack(app, config.stackName, { config });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

const outdirs: string[] = [];

/** Removes the cloud assemblies the syntheses wrote: call it in afterAll. */
export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A sender SES could verify, for tests that want no placeholder warning. */
export const realSender = { sender: 'presse@villes-internet.net' };

export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }
>;

/** The logical id of the one resource of a type whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ')}`);
  return ids[0] as string;
}
