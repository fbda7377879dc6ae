import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, type IPrincipal, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ChromiumLayer } from './chromium.ts';
import type { PressroomConfig } from './config.ts';
import { acknowledge } from './nag.ts';

/** The top of the project: handlers, templates and package-lock.json are found from it. */
export const projectRoot = fileURLToPath(new URL('../', import.meta.url));

/** The functions, one entry file each: `lambdas/handlers/<name>.ts`, exporting `handler`. */
export const handlerNames = ['publish', 'dispatch', 'send', 'feedback', 'public', 'admin'] as const;
export type HandlerName = (typeof handlerNames)[number];

/** Where the templates are inside a function that carries them. */
export const bundledTemplatesDir = '/var/task/templates';

export interface PressroomFunctionProps {
  handler: HandlerName;
  description: string;
  memorySize: number;
  timeout: Duration;
  /** The function's own variables; the shared ones are added here. */
  environment: Record<string, string>;
  config: Pick<PressroomConfig, 'logLevel' | 'logDebugSampleRate' | 'logRetentionDays' | 'awsSdk'>;
  /** Copy `templates/` into the bundle and point PRESSROOM_TEMPLATES_DIR at it. */
  withTemplates?: boolean;
  reservedConcurrentExecutions?: number;
  /** Where failed asynchronous invocations go. */
  deadLetterQueue?: IQueue;
  /** Print PDFs: the Chromium layer, its packages left out of the bundle, its architecture. */
  chromium?: ChromiumLayer;
  /**
   * V8's old-space limit, in MB (`--max-old-space-size`). Unset, V8 lets a busy heap grow
   * toward the function's memory before collecting; set, it collects sooner and the peak stays
   * near what is alive (dispatch: docs/performance.md, "AWS dispatch").
   */
  maxOldSpaceMb?: number;
}

/**
 * The packages a bundle leaves out, to be found at run time: the AWS SDK v3, which the Node.js
 * 22 runtime provides (unless `awsSdk` is `bundled`: then each bundle holds the SDK's parts
 * it calls), and the Chromium layer's packages, which read their own files at run time.
 */
export function externalModules(awsSdk: PressroomConfig['awsSdk'], chromium?: ChromiumLayer): string[] {
  return [...(awsSdk === 'bundled' ? [] : ['@aws-sdk/*']), ...(chromium?.modules ?? [])];
}

/**
 * One shared shape for every pressroom function: Node.js 22 on arm64 (x86_64 with the
 * Chromium layer, whose Chromium is x64 only), bundled by the
 * local esbuild as an ES module with source maps, its own role (no managed policy: each
 * grant is added by the stack) and its own log group with a retention. JSON logs go
 * through the Powertools logger, at the configured level, with a sampled share at DEBUG.
 */
export class PressroomFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly grantPrincipal: IPrincipal;

  constructor(scope: Construct, id: string, props: PressroomFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.config.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `pressroom ${props.handler} function`,
    });
    this.grantPrincipal = this.role;
    const templatesDir: Record<string, string> = props.withTemplates
      ? { PRESSROOM_TEMPLATES_DIR: bundledTemplatesDir }
      : {};
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(projectRoot, 'lambdas', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: props.chromium?.architecture ?? Architecture.ARM_64,
      ...(props.chromium && { layers: [props.chromium.layer] }),
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Text, not JSON, on purpose: with JSON logs Lambda filters by its own level, under
      // which the Powertools logger cannot sample debug lines. Every line the code writes is
      // JSON all the same (Powertools); only Lambda's START/END/REPORT lines are text.
      loggingFormat: LoggingFormat.TEXT,
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      ...(props.deadLetterQueue && { deadLetterQueue: props.deadLetterQueue }),
      environment: {
        ...props.environment,
        ...templatesDir,
        POWERTOOLS_SERVICE_NAME: 'pressroom',
        POWERTOOLS_LOG_LEVEL: props.config.logLevel,
        // This share of invocations logs at DEBUG (Powertools decides per invocation).
        POWERTOOLS_LOGGER_SAMPLE_RATE: String(props.config.logDebugSampleRate),
        NODE_OPTIONS: [
          '--enable-source-maps',
          ...(props.maxOldSpaceMb ? [`--max-old-space-size=${props.maxOldSpaceMb}`] : []),
        ].join(' '),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Accented text and entity tables stay as UTF-8 instead of \uXXXX escapes (about 8%
        // smaller). Passed as an argument: this CDK version ignores its own `charset` prop.
        // source-map is left out (see no-source-map.cjs): nothing asks for maps of templates.
        esbuildArgs: {
          '--charset': 'utf8',
          '--alias:source-map': path.join(projectRoot, 'lib', 'no-source-map.cjs'),
        },
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call require() for Node's own modules.
        banner:
          "import { createRequire as __pressroomRequire } from 'node:module'; const require = __pressroomRequire(import.meta.url);",
        externalModules: externalModules(props.config.awsSdk, props.chromium),
        ...(props.withTemplates && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => [
              `cp -R "${path.join(inputDir, 'templates')}" "${path.join(outputDir, 'templates')}"`,
            ],
          },
        }),
      },
    });
    this.logGroup.grantWrite(this.role);
    acknowledge(
      this.function,
      'AwsSolutions-L1',
      'Node.js 22 on purpose: pressroom is developed and tested on Node.js 20 and 22, not yet 24; Lambda supports Node.js 22 until April 2027.',
    );
  }
}
