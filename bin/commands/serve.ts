import { Command, InvalidArgumentError } from 'commander';
import { createLocalServer, previewPath } from '../../lambdas/adapters/local-server.ts';
import { dataDirOption, loadConfig, localBackend } from '../context.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('give a port number from 0 to 65535');
  return n;
}

export const serveCommand = new Command('serve')
  .description('Serve the press room, signed downloads and email previews on this machine')
  .option('--port <port>', 'TCP port (0 picks a free one)', port, 3000)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addOption(dataDirOption)
  .addHelpText(
    'after',
    `
Serves site/ of the data folder at /, signed links from \`pressroom archive link\` at
${'/_signed/...'}, and the email of a release, filled for the sample recipient, at
${previewPath}<slug>. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.`,
  )
  .action(async (opts: { port: number; host: string; dataDir: string }) => {
    const backend = await localBackend(loadConfig(opts), { pdf: false });
    const server = createLocalServer({ store: backend.store, sampleRecipient: backend.sampleRecipient });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
    const address = server.address();
    const where =
      typeof address === 'object' && address
        ? `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${address.port}/`
        : String(address);
    process.stdout.write(`pressroom serving ${backend.store.root} at ${where} (Ctrl-C to stop)\n`);
    const stop = () => {
      process.stdout.write('stopping: finishing requests in flight\n');
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      setTimeout(() => process.exit(0), 5000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
