/**
 * An example release published in a copy of the examples' workspace and served by `pressroom
 * serve`'s server in this process, on 127.0.0.1: the set-up of the browser tests of pages the
 * public endpoint answers (press kit, proofs).
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type LocalBackend, type LocalConfig, loadConfig, localBackend } from '../../bin/context.ts';
import { createLocalServer } from '../../lambdas/adapters/local-server.ts';
import { PreviewSigner } from '../../lambdas/adapters/signed-downloads.ts';
import { publishRelease } from '../../lambdas/core/archive/publish.ts';
import type { PublicSettings } from '../../lambdas/core/public/endpoint.ts';
import { exampleWorkspace } from './cli.ts';
import { MemoryMailer } from './subscription-fixtures.ts';

export interface ExampleServer {
  /** The workspace's copy (a temporary folder) and its `examples/` folder. */
  work: string;
  examples: string;
  config: LocalConfig;
  backend: LocalBackend;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Stops the server, closes the backend and removes the copy. */
  close(): Promise<void>;
}

/**
 * Copies the examples' workspace (`prefix` names the folder), publishes `release` (a file of
 * it, without PDF) with links on `publicUrl` and the contact keys of `secret`, and serves it;
 * the public endpoint's settings are the press room's language, no lists and `settings`.
 */
export async function serveExample(options: {
  prefix: string;
  secret: string;
  publicUrl: string;
  release: string;
  settings?: (config: LocalConfig) => Promise<Partial<PublicSettings>>;
}): Promise<ExampleServer> {
  const work = await exampleWorkspace(options.prefix);
  const examples = path.join(work, 'examples');
  const config = loadConfig(
    {},
    { ...process.env, PRESSROOM_SECRET: options.secret, PRESSROOM_PUBLIC_URL: options.publicUrl },
    examples,
  );
  const backend = await localBackend(config, { pdf: false });
  await publishRelease(path.join(work, options.release), backend);
  const server: Server = createLocalServer({
    store: backend.store,
    sampleRecipient: backend.sampleRecipient,
    previews: new PreviewSigner(options.secret),
    endpoint: {
      keys: backend.keys,
      templates: backend.templates,
      mailer: new MemoryMailer(),
      settings: {
        publicUrl: options.publicUrl,
        lang: config.siteLang,
        lists: {},
        ...(await options.settings?.(config)),
      },
    },
    log: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    work,
    examples,
    config,
    backend,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await backend.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
