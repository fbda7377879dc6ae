// The harness's Lambda runtime: one worker thread is one warm container of one function.
// The worker's process.env is exactly the function's environment (the template's variables
// and those Lambda adds); the bundle is imported once, and each message is an invocation.
// Events and results cross as JSON, as they do on Lambda.
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const {
  entry,
  exportName,
  functionName,
  functionArn,
  memorySize,
  timeoutSeconds,
  internet = {},
} = workerData;

// The few hosts of the internet the harness stands for (Cognito's keys and token endpoint):
// fetch() to them goes to their fake on 127.0.0.1, the host named in x-harness-host.
const internetFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const local = internet[url.host];
  if (!local || input instanceof Request) return internetFetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('x-harness-host', url.host);
  return internetFetch(`${local}${url.pathname}${url.search}`, { ...init, headers });
};

// Packages the bundle leaves out are found through NODE_PATH only, as on Lambda.
register(new URL('./node-path-hooks.mjs', import.meta.url), {
  data: { nodePath: (process.env.NODE_PATH ?? '').split(path.delimiter).filter((f) => f !== '') },
});

// Which variables the function reads, set or not: what tells a missing or a dead variable.
const variablesRead = new Set();
process.env = new Proxy(process.env, {
  get(target, name) {
    if (typeof name === 'string') variablesRead.add(name);
    return Reflect.get(target, name);
  },
  has(target, name) {
    if (typeof name === 'string') variablesRead.add(name);
    return Reflect.has(target, name);
  },
});
if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

let handler;
let initError;
try {
  handler = (await import(pathToFileURL(entry).href))[exportName];
  if (typeof handler !== 'function') throw new Error(`${entry} exports no function "${exportName}"`);
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  initError = error;
  parentPort.postMessage({
    type: 'init-error',
    error: { errorType: error?.name, errorMessage: error?.message, stack: error?.stack },
  });
}

parentPort.on('message', async ({ id, event }) => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memorySize),
    awsRequestId: id,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    if (!handler) throw initError;
    const result = await handler(JSON.parse(event), context);
    parentPort.postMessage({
      type: 'result',
      id,
      result: result === undefined ? 'null' : JSON.stringify(result),
      variablesRead: [...variablesRead],
    });
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      id,
      error: {
        errorType: error?.name ?? 'Error',
        errorMessage: error?.message ?? String(error),
        stack: error?.stack,
      },
      variablesRead: [...variablesRead],
    });
  }
});
