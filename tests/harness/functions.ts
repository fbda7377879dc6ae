import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Assembly } from './assembly.ts';
import type { Caller } from './edge.ts';
import { REGION, type TemplateValues } from './template.ts';

/** Where Lambda unpacks a function's code: the template's paths under it are the bundle's. */
export const TASK_ROOT = '/var/task';
/** Every function signs with its logical id as access key id, and this secret. */
export const FUNCTION_SECRET_KEY = 'harness-function-secret';

/** A function of the template: its bundle, environment and role, resolved. */
export interface FunctionSpec {
  logicalId: string;
  name: string;
  arn: string;
  roleId: string;
  roleArn: string;
  assetDir: string;
  /** `index.handler` → the bundle file and its export. */
  entry: string;
  exportName: string;
  memorySize: number;
  timeoutSeconds: number;
  /** The template's variables, resolved (values under /var/task point into the bundle). */
  environment: Record<string, string>;
  /** The folders of the function's layers, in order: what Lambda unpacks under /opt. */
  layerDirs: string[];
  /** The template's LoggingConfig: Lambda sets AWS_LAMBDA_LOG_FORMAT/LEVEL from it. */
  logging: { format: string; applicationLevel?: string };
}

/** The functions the template bundles (CDK's own deploy-time handlers carry no bundle). */
export function functionSpecs(assembly: Assembly, values: TemplateValues): FunctionSpec[] {
  return values
    .ofType('AWS::Lambda::Function')
    .filter((id) => values.resource(id).Metadata?.['aws:asset:is-bundled'] === true)
    .map((logicalId) => {
      const p = values.resource(logicalId).Properties ?? {};
      const assetDir = assembly.assetDir(logicalId);
      const [file = 'index', exportName = 'handler'] = String(p.Handler).split('.');
      const variables = (values.resolve((p.Environment as { Variables?: unknown } | undefined)?.Variables) ??
        {}) as Record<string, unknown>;
      const environment = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => {
          const text = String(v);
          return [
            k,
            text === TASK_ROOT || text.startsWith(`${TASK_ROOT}/`)
              ? assetDir + text.slice(TASK_ROOT.length)
              : text,
          ];
        }),
      );
      const roleId = (p.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const layers = ((p.Layers ?? []) as { Ref?: string }[]).map((layer) => {
        if (!layer.Ref)
          throw new Error(`${logicalId} has a layer the harness cannot find: ${JSON.stringify(layer)}`);
        return assembly.assetDir(layer.Ref);
      });
      const logging = (p.LoggingConfig ?? {}) as { LogFormat?: string; ApplicationLogLevel?: string };
      return {
        logging: {
          format: logging.LogFormat ?? 'Text',
          ...(logging.ApplicationLogLevel && { applicationLevel: logging.ApplicationLogLevel }),
        },
        logicalId,
        name: values.ref(logicalId),
        arn: values.getAtt(logicalId, 'Arn'),
        roleId,
        roleArn: values.getAtt(roleId, 'Arn'),
        assetDir,
        entry: path.join(assetDir, `${file}.mjs`),
        exportName,
        memorySize: Number(p.MemorySize ?? 128),
        timeoutSeconds: Number(p.Timeout ?? 3),
        environment,
        layerDirs: layers,
      };
    });
}

/** The edge's view of a function: who signs as it, and its role's policies. */
export function callerOf(spec: FunctionSpec, values: TemplateValues): Caller {
  return {
    accessKeyId: spec.logicalId,
    name: spec.logicalId,
    roleArn: spec.roleArn,
    policies: values.rolePolicies(spec.roleId),
  };
}

/**
 * The variables Lambda adds to a function's own (its reserved ones), and what points the
 * SDK at the harness: `AWS_ENDPOINT_URL` for every service, the function's own access key,
 * and the checksum setting s3rver needs (it stores streamed uploads corrupted otherwise).
 * `NODE_PATH` is Lambda's node_modules folders, with /opt as the function's layers and
 * /var/runtime/node_modules as `runtimeModules` (the SDK the runtime provides); `TMPDIR` is the container's own
 * temporary folder, as each execution environment has its own /tmp.
 */
export function runtimeEnvironment(
  spec: FunctionSpec,
  endpoint: string,
  where: { runtimeModules: string; tmpDir: string },
): Record<string, string> {
  const nodePath = [
    ...spec.layerDirs.flatMap((opt) => [
      path.join(opt, 'nodejs', 'node22', 'node_modules'),
      path.join(opt, 'nodejs', 'node_modules'),
    ]),
    where.runtimeModules,
  ];
  return {
    ...spec.environment,
    NODE_PATH: nodePath.join(path.delimiter),
    TMPDIR: where.tmpDir,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${spec.logicalId}`,
    // As Lambda: the format always, the level only with JSON logs and an application level.
    AWS_LAMBDA_LOG_FORMAT: spec.logging.format.toUpperCase(),
    ...(spec.logging.format === 'JSON' && { AWS_LAMBDA_LOG_LEVEL: spec.logging.applicationLevel ?? 'INFO' }),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: spec.assetDir,
    _HANDLER: `${path.basename(spec.entry, '.mjs')}.${spec.exportName}`,
    AWS_ACCESS_KEY_ID: spec.logicalId,
    AWS_SECRET_ACCESS_KEY: FUNCTION_SECRET_KEY,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    // No profile or config file of the machine running the tests.
    AWS_CONFIG_FILE: path.join(spec.assetDir, '.no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(spec.assetDir, '.no-aws-credentials'),
  };
}

/** What an invocation gave: the JSON result, or the error Lambda would report. */
export type Invocation<T = unknown> =
  | { ok: true; result: T; logs: string[] }
  | { ok: false; error: { errorType: string; errorMessage: string; stack?: string }; logs: string[] };

/** One function's warm container: a worker thread with the function's environment only. */
export class LambdaContainer {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, (message: WorkerMessage) => void>();
  /** Every line the function printed (its JSON logs). */
  readonly logs: string[] = [];
  /** The environment variables the function has read so far, set or not. */
  readonly variablesRead = new Set<string>();

  constructor(
    readonly spec: FunctionSpec,
    private readonly env: Record<string, string>,
    /** Hosts of the internet the harness stands for, each to its fake's local address. */
    private readonly internet: Record<string, string> = {},
  ) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./lambda-runtime.mjs', import.meta.url), {
      env: this.env,
      stdout: true,
      stderr: true,
      workerData: {
        entry: this.spec.entry,
        exportName: this.spec.exportName,
        functionName: this.spec.name,
        functionArn: this.spec.arn,
        memorySize: this.spec.memorySize,
        timeoutSeconds: this.spec.timeoutSeconds,
        internet: this.internet,
      },
    });
    this.worker = worker;
    for (const stream of [worker.stdout, worker.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        this.logs.push(...lines.filter((l) => l.trim() !== ''));
      });
    }
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready' || message.type === 'init-error') return resolve();
        const settle = this.pending.get(message.id as string);
        this.pending.delete(message.id as string);
        settle?.(message);
      });
      worker.on('error', reject);
    });
    return this.ready;
  }

  /** Invokes the function with an event, as its source would, and waits for its answer. */
  async invoke<T = unknown>(event: unknown): Promise<Invocation<T>> {
    await this.start();
    const id = randomUUID();
    const from = this.logs.length;
    const message = await new Promise<WorkerMessage>((resolve) => {
      this.pending.set(id, resolve);
      this.worker?.postMessage({ id, event: JSON.stringify(event) });
    });
    for (const name of message.variablesRead ?? []) this.variablesRead.add(name);
    // Lines still in flight from the worker's stdout.
    await new Promise((r) => setImmediate(r));
    const logs = this.logs.slice(from);
    if (message.type === 'result') return { ok: true, result: JSON.parse(message.result) as T, logs };
    if (message.type === 'error') return { ok: false, error: message.error, logs };
    throw new Error(`unexpected message from ${this.spec.logicalId}`);
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  /**
   * Another instance of the function from now on, as Lambda starts one beside (or after) a
   * warm one: the worker ends, and the next invocation loads the bundle again (a cold start),
   * with nothing of the old instance's memory.
   */
  async coldStart(): Promise<void> {
    await this.stop();
    this.worker = undefined;
    this.ready = undefined;
  }
}

type WorkerMessage =
  | { type: 'ready' | 'init-error'; id?: undefined; error?: unknown; variablesRead?: undefined }
  | { type: 'result'; id: string; result: string; variablesRead?: string[] }
  | {
      type: 'error';
      id: string;
      error: { errorType: string; errorMessage: string; stack?: string };
      variablesRead?: string[];
    };
