import path from 'node:path';
import { RefusedFileError } from '../../lambdas/core/errors.ts';
import { fileTooLarge } from '../../lambdas/core/limits.ts';
import type { SourceFiles } from '../../lambdas/core/publication/load.ts';
import { streamedBytes } from '../../lambdas/core/store/object-store.ts';

/**
 * An in-memory workspace for core tests: paths map to file contents. With `root`, reads are
 * confined to paths under it, as the adapters confine them to a workspace.
 */
export function memoryFiles(
  files: Record<string, string | Uint8Array>,
  options: { root?: string } = {},
): SourceFiles {
  const get = (file: string) => {
    const key = path.posix.normalize(file);
    if (options.root !== undefined && !key.startsWith(options.root)) {
      throw new RefusedFileError(file, 'outside', `is outside the workspace ${options.root}`);
    }
    return files[key];
  };
  const self: SourceFiles = {
    async size(file) {
      const content = get(file);
      if (content === undefined) return undefined;
      return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
    },
    async readBytes(file, read) {
      const content = get(file);
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      if (bytes && read?.maxSize !== undefined && bytes.byteLength > read.maxSize)
        throw fileTooLarge(file, bytes.byteLength, read.maxSize);
      return bytes;
    },
    async stream(file) {
      const bytes = await self.readBytes(file);
      return bytes && streamedBytes(bytes);
    },
    within: () => self,
  };
  return self;
}

export const villesInternet = `name: Villes Internet
about: Association d’élus fondée en 2002.
phone: "+33 1 55 06 09 30"
social:
  twitter: "@Villes_Internet"
pressContact:
  name: Florence Poznanski
  email: presse@villes-internet.example.org
color: "#c8102e"
`;

/** A minimal valid publication; `extra` lines are added to its front matter. */
export function publicationText(
  extra = '',
  body = 'Le corps du communiqué.\n\n## Une section\n\nSuite.',
): string {
  return `---
title: "Gestion de crise avec le numérique\u00a0: les villes moyennes résilientes"
date: 2021-06-08
lead: Les associations d’élus publient ce mardi 8 juin une étude.
publishers:
  - villes-internet
${extra}---
${body}
`;
}

/** A release with its slug and title; `extra` lines are added to its front matter. */
export function releaseText(slug: string, title: string, extra = '', body?: string): string {
  return publicationText(`slug: ${slug}\n${extra}`, body).replace(/^title: .*$/m, `title: "${title}"`);
}
