import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test server listening on 127.0.0.1: its address, and how to stop it. */
export interface Listening {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Closes the server and the connections still open to it. */
  close(): Promise<void>;
}

/** Makes `server` listen on a free port of 127.0.0.1, unless it already listens. */
export async function listenLocally(server: Server): Promise<Listening> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
