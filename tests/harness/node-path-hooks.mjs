// Module resolution as the Lambda Node.js runtime does it for ES modules: a bare specifier
// that is not found from the importing file is looked for in the NODE_PATH folders (the
// layers' /opt/nodejs/node_modules, then the runtime's own modules: the AWS SDK).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let folders = [];

export function initialize(data) {
  folders = data.nodePath;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const bare = !/^(\.|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !bare) throw error;
    for (const folder of folders) {
      try {
        // Resolved as if imported from a file in the folder's parent: found in the folder.
        return await next(specifier, {
          ...context,
          parentURL: pathToFileURL(path.join(folder, '..', 'x.mjs')).href,
        });
      } catch (again) {
        if (again?.code !== 'ERR_MODULE_NOT_FOUND') throw again;
      }
    }
    throw error;
  }
}
