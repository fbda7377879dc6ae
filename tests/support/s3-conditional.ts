import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { listenLocally } from './listen.ts';

/**
 * S3's conditional writes in front of s3rver, which ignores them: an in-process HTTP proxy
 * on 127.0.0.1 that answers a PUT carrying `If-None-Match: *` or `If-Match: <etag>` as S3
 * does (412 PreconditionFailed when the condition fails, 404 NoSuchKey for If-Match on a
 * missing key) and passes everything else on unchanged. Requests on one key go through one
 * at a time, so a condition checked and the write that follows are one step, and a read
 * never sees half of a write (s3rver writes its files in place), as in S3.
 * The SDK, its HTTP stack and its error parsing run for real; only the bucket is s3rver.
 */
export interface ConditionalS3 {
  endpoint: string;
  /** Conditional PUTs answered 412 or 404 so far. */
  refused: number;
  close(): Promise<void>;
}

export async function conditionalS3(upstream: string): Promise<ConditionalS3> {
  const target = new URL(upstream);
  const turns = new Map<string, Promise<void>>();
  const state: ConditionalS3 = { endpoint: '', refused: 0, close: async () => {} };

  /** Runs `work` once the writes to `key` before it are done. */
  const inTurn = async (key: string, work: () => Promise<void>) => {
    const before = turns.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.catch(() => {});
    turns.set(key, settled);
    try {
      await mine;
    } finally {
      if (turns.get(key) === settled) turns.delete(key);
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const out = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      if (body) out.end(body);
      else req.pipe(out);
    });

  /** The key's current ETag as s3rver has it, or undefined when there is no such key. */
  const currentETag = (req: IncomingMessage) =>
    new Promise<string | undefined>((resolve, reject) => {
      const {
        'content-length': _l,
        'content-type': _t,
        'if-none-match': _n,
        'if-match': _m,
        ...headers
      } = req.headers;
      const head = request(
        { host: target.hostname, port: target.port, method: 'HEAD', path: req.url, headers },
        (answer) => {
          answer.resume();
          answer.on('end', () =>
            resolve(answer.statusCode === 200 ? String(answer.headers.etag ?? '') : undefined),
          );
        },
      );
      head.on('error', reject);
      head.end();
    });

  const refuse = (res: ServerResponse, status: number, code: string) => {
    state.refused++;
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>At least one of the pre-conditions you specified did not hold</Message><RequestId>proxy</RequestId><HostId>proxy</HostId></Error>`,
    );
  };

  const server: Server = createServer((req, res) => {
    const key = (req.url ?? '').split('?')[0] ?? '';
    const fail = (error: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    };
    // Listings and bucket requests are not about one key.
    const bucketOnly = key.split('/').filter(Boolean).length < 2;
    if (bucketOnly) {
      forward(req, res).catch(fail);
      return;
    }
    // The body is read first, so that the key's turn is not held while the client uploads.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inTurn(key, async () => {
        const noneMatch = req.headers['if-none-match'];
        const ifMatch = req.headers['if-match'];
        if (req.method === 'PUT' && (noneMatch !== undefined || ifMatch !== undefined)) {
          const etag = await currentETag(req);
          if (noneMatch === '*' && etag !== undefined) return refuse(res, 412, 'PreconditionFailed');
          if (ifMatch !== undefined && etag === undefined) return refuse(res, 404, 'NoSuchKey');
          if (ifMatch !== undefined && ifMatch !== etag) return refuse(res, 412, 'PreconditionFailed');
        }
        await forward(req, res, Buffer.concat(chunks));
      }).catch(fail);
    });
  });
  const listening = await listenLocally(server);
  state.endpoint = listening.endpoint;
  state.close = listening.close;
  return state;
}
