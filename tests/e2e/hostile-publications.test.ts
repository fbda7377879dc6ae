/**
 * Hostile and broken publications through the real `pressroom` command, in a temporary copy
 * of the examples (a workspace): each refused with exit code 1 and a message naming the file
 * (and line, where there is one), never a stack trace, and the store byte for byte as it was.
 * Then what must work: a file in Windows-1252, a local image (copied, absolute URLs), bare
 * release slugs in a newsletter issue. Cheaper cases of the same kinds are unit tests
 * (tests/unit/publication-input.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspaceForFile, expectExit, repo, runPressroom } from '../support/cli.ts';

const workspace = exampleWorkspaceForFile('pressroom-hostile-');
const { pressroom } = workspace;
const at = (...parts: string[]) => path.join(workspace.dir, ...parts);
const publications = 'examples/publications';
const store = 'store';

/** A publication of the examples' workspace: `extra` YAML lines in its front matter. */
function publication(extra: string, body = 'Le corps du communiqué.\n', title = 'Un communiqué'): string {
  return `---\ntitle: "${title}"\ndate: 2021-06-08\nlead: Une étude.\npublishers:\n  - villes-internet\n${extra}---\n${body}`;
}

/** Every file under a folder and the hash of its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  }
  return out;
}

interface Hostile {
  name: string;
  /** The publication's file name in examples/publications/, and its text. */
  file: string;
  text?: string | Buffer;
  /** The command after `pressroom` (default: publish the file into the store). */
  args?: string[];
  env?: Record<string, string>;
  /** What stderr must say. */
  says: string[];
}

const hostile: Hostile[] = [
  {
    name: 'an attachment linked to /proc/self/environ',
    file: 'h-environ.md',
    text: publication('attachments: [attachments/h-environ.txt]\n'),
    says: ['h-environ.md:7', 'attachments[0].file', 'is a symbolic link', 'copy the file itself'],
  },
  {
    name: 'an attachment linked to a file outside the workspace',
    file: 'h-outside-link.md',
    text: publication('attachments: [attachments/h-secret.txt]\n'),
    says: ['h-outside-link.md:7', 'is a symbolic link', 'outside/secret.txt'],
  },
  {
    name: 'an attachment that is a FIFO',
    file: 'h-fifo.md',
    text: publication('attachments: [attachments/h-pipe.pdf]\n'),
    says: ['h-fifo.md:7', 'named pipe (FIFO), not a regular file'],
  },
  {
    name: 'an attachment linked to /dev/zero',
    file: 'h-zero.md',
    text: publication('attachments: [attachments/h-zero.bin]\n'),
    says: ['h-zero.md:7', 'is a symbolic link', '/dev/zero'],
  },
  {
    name: 'an attachment that is a folder',
    file: 'h-folder.md',
    text: publication('attachments: [attachments]\n'),
    says: ['h-folder.md:7', 'a folder, not a regular file'],
  },
  {
    name: 'a ../ escape',
    file: 'h-dotdot.md',
    text: publication('attachments: [../../outside/secret.txt]\n'),
    says: ['h-dotdot.md:7', 'attachments[0]', 'no ".."'],
  },
  {
    name: 'an absolute path',
    file: 'h-absolute.md',
    text: publication('attachments: [/etc/passwd]\n'),
    says: ['h-absolute.md:7', 'not absolute'],
  },
  {
    name: 'an attachment over the size limit',
    file: 'h-big.md',
    text: publication('attachments: [attachments/h-big.bin]\n'),
    env: { PRESSROOM_MAX_FILE_SIZE: '1kB' },
    says: ['h-big.md:7', 'is 2 kB, more than the 1 kB', 'PRESSROOM_MAX_FILE_SIZE'],
  },
  {
    name: 'a linked organisation file',
    file: 'h-org.md',
    text: publication('').replace('  - villes-internet\n', '  - h-evil\n'),
    says: ['h-org.md:6', 'publishers[0]', 'organisation file', 'is a symbolic link'],
  },
  {
    name: 'a linked template folder',
    file: '2021-06-08-numerique-gestion-de-crise.md',
    args: [
      'render',
      `${publications}/2021-06-08-numerique-gestion-de-crise.md`,
      '--templates',
      'h-templates',
      '--out',
      'out/h',
    ],
    says: ['h-templates/', 'is a symbolic link'],
  },
  {
    name: 'a NUL in a field',
    file: 'h-nul-field.md',
    text: publication('author: "Michaël\\0Bideault"\n'),
    says: ['h-nul-field.md:7', 'author', 'control character'],
  },
  {
    name: 'a NUL in a path',
    file: 'h-nul-path.md',
    text: publication('attachments: ["attachments/a\\0b.txt"]\n'),
    says: ['h-nul-path.md:7', 'control character'],
  },
  {
    name: 'a NUL byte in the body',
    file: 'h-nul-body.md',
    text: publication('', 'Un.\n\nDe\u0000ux.\n'),
    says: ['h-nul-body.md:10:3', 'U+0000 (NUL)'],
  },
  {
    name: '2,000 nested tags',
    file: 'h-nested.md',
    text: publication('', `${'<blockquote>'.repeat(2000)}x${'</blockquote>'.repeat(2000)}\n`),
    says: ['h-nested.md:8', 'nests elements 2000 levels deep'],
  },
  {
    name: 'an alias bomb',
    file: 'h-bomb.md',
    text: publication(
      [
        'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
        'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
        'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
        'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
        'tags: [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
        '',
      ].join('\n'),
    ),
    says: ['h-bomb.md:2', 'aliases'],
  },
  {
    name: 'an over-long title',
    file: 'h-title.md',
    text: publication('', 'x', 'T'.repeat(301)),
    says: ['h-title.md:2', 'title', 'is too long: 301 characters, at most 300'],
  },
  {
    name: 'an over-long lead',
    file: 'h-lead.md',
    text: publication('').replace('lead: Une étude.', `lead: ${'l'.repeat(3001)}`),
    says: ['h-lead.md:4', 'lead', 'at most 3,000'],
  },
  {
    name: 'an over-long tag',
    file: 'h-tag.md',
    text: publication(`tags: [${'t'.repeat(201)}]\n`),
    says: ['h-tag.md:7', 'tags[0]', 'at most 200'],
  },
  {
    name: 'an over-long email',
    file: 'h-email.md',
    text: publication('').replace(
      '  - villes-internet\n',
      `  - name: X\n    about: Y\n    email: ${'a'.repeat(250)}@example.org\n`,
    ),
    says: ['h-email.md:8', 'publishers[0].email', 'at most 254'],
  },
  {
    name: 'a 50 MB Markdown file, from its size alone',
    file: 'h-huge.md',
    says: [
      'h-huge.md: this file is 50 MB, more than the 2 MB a publication or issue file',
      'put the full text in an attachment',
    ],
  },
  {
    name: 'a 3 MB newsletter issue, from its size alone',
    file: 'h-huge-issue.md',
    args: ['newsletter', 'render', `${publications}/h-huge-issue.md`, '--out', 'out/h', '--data-dir', store],
    says: ['h-huge-issue.md: this file is 3 MB, more than the 2 MB a publication or issue file'],
  },
  {
    name: 'a body over 200,000 characters in a file under 2 MB',
    file: 'h-long.md',
    text: publication('', `${'Du texte. '.repeat(30_000)}\n`),
    says: ['h-long.md:8', 'body', 'more than the 200,000 allowed'],
  },
  {
    name: 'an unquoted colon in the title',
    file: 'h-colon.md',
    text: publication('').replace('title: "Un communiqué"', 'title: Gestion de crise : les villes'),
    says: [
      'h-colon.md:2',
      'put the whole value in double quotes, as in title: "Gestion de crise : les villes"',
    ],
  },
  {
    name: 'a missing image',
    file: 'h-missing-image.md',
    text: publication('', 'Texte.\n\n![Photo](images/absente.png)\n'),
    says: ['h-missing-image.md:10', 'image not found', 'images/absente.png'],
  },
  {
    name: 'an embargo without its time zone',
    file: 'h-embargo.md',
    text: publication('embargo: 2021-06-08 08:00\n'),
    says: ['h-embargo.md:7', 'no time zone', '"2021-06-08 08:00 Europe/Paris"'],
  },
];

let storeBefore: Record<string, string>;

beforeAll(async () => {
  // The copy of examples/ is the workspace (examples/pressroom.yaml, when the copy lacks one).
  await stat(at('examples/pressroom.yaml')).catch(() =>
    writeFile(at('examples/pressroom.yaml'), '# the examples are a workspace\n'),
  );
  await mkdir(at('outside'));
  await writeFile(at('outside/secret.txt'), 'SECRET=do-not-publish\n');
  await writeFile(at('outside/evil.yaml'), 'name: Evil\nabout: Read from outside.\n');
  const attachments = (name: string) => at(publications, 'attachments', name);
  await symlink('/proc/self/environ', attachments('h-environ.txt'));
  await symlink(at('outside/secret.txt'), attachments('h-secret.txt'));
  await symlink('/dev/zero', attachments('h-zero.bin'));
  await writeFile(attachments('h-big.bin'), Buffer.alloc(2000, 1));
  execFileSync('mkfifo', [attachments('h-pipe.pdf')]);
  await symlink(at('outside/evil.yaml'), at('examples/organizations/h-evil.yaml'));
  await symlink(path.join(repo, 'templates'), at('h-templates'));
  for (const h of hostile) if (h.text !== undefined) await writeFile(at(publications, h.file), h.text);
  await writeFile(at(publications, 'h-huge.md'), publication('', `${'Du texte. '.repeat(5_000_000)}\n`));
  await writeFile(
    at(publications, 'h-huge-issue.md'),
    `---\ntitle: La lettre\ndate: 2024-03-15\npublishers: [villes-internet]\n---\n${'Du texte. '.repeat(300_000)}\n`,
  );
  // A store with a release in it, so that "unchanged" means something.
  expectExit(
    await pressroom(
      'publish',
      `${publications}/2024-03-12-open-data-barometer.md`,
      '--no-pdf',
      '--data-dir',
      store,
    ),
    0,
  );
  storeBefore = await snapshot(at(store));
}, 120_000);

describe.concurrent('hostile publications are refused, located, and change nothing', () => {
  // Each case is a process of its own, several at once: slow on a busy machine.
  it.for(hostile)('$name', { timeout: 120_000 }, async ({ file, args, env, says }, { expect }) => {
    const run = await runPressroom(
      args ?? ['publish', `${publications}/${file}`, '--no-pdf', '--data-dir', store],
      {
        cwd: workspace.dir,
        env: { ...process.env, ...env },
      },
    );
    expectExit(run, 1);
    for (const fragment of says) expect(run.stderr).toContain(fragment);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(`${run.stdout}${run.stderr}`).not.toContain('do-not-publish');
    expect(await snapshot(at(store))).toEqual(storeBefore);
    await expect(stat(at('out/h'))).rejects.toThrow();
  });
});

describe('what people write that must work', () => {
  it('converts a publication saved in Windows-1252, with a notice, and no replacement character', async () => {
    const text = publication('author: Michaël Bideault\n', 'L’été, le cœur des villes – « résilientes ».\n');
    const bytes = Buffer.from(
      [...text].map((c) => ({ '’': 0x92, œ: 0x9c, '–': 0x96, '«': 0xab, '»': 0xbb })[c] ?? c.charCodeAt(0)),
    );
    await writeFile(at(publications, 'h-cp1252.md'), bytes);
    const run = await pressroom('render', `${publications}/h-cp1252.md`, '--out', 'out/cp1252');
    expectExit(run, 0);
    expect(run.stderr).toContain('h-cp1252.md is not UTF-8: read as Windows-1252');
    const email = await readFile(at('out/cp1252/email.txt'), 'utf8');
    // Typeset in French: narrow no-break spaces inside « ».
    expect(email).toContain('L’été, le cœur des villes – «\u202frésilientes\u202f».');
    expect(email).toContain('Michaël Bideault');
    for (const name of await readdir(at('out/cp1252'))) {
      if (name.includes('.')) expect(await readFile(at('out/cp1252', name), 'utf8')).not.toContain('\ufffd');
    }
  });

  it('copies a local image with the release and gives it an absolute URL in email and page', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    await mkdir(at(publications, 'images'), { recursive: true });
    await writeFile(at(publications, 'images/h-photo.png'), png);
    await writeFile(
      at(publications, 'h-image.md'),
      publication('slug: h-image\n', 'Texte.\n\n![Une photo](images/h-photo.png)\n'),
    );
    const run = await pressroom('publish', `${publications}/h-image.md`, '--no-pdf', '--data-dir', store);
    expectExit(run, 0);
    const url = 'http://localhost:3000/releases/h-image/files/images/h-photo.png';
    const [version] = (await readdir(at(store, 'archive/h-image'))).filter((n) => n !== 'release.json');
    const archived = (name: string) => at(store, 'archive/h-image', version ?? '', name);
    expect(await readFile(archived('files/images/h-photo.png'))).toEqual(png);
    expect(await readFile(at(store, 'site/releases/h-image/files/images/h-photo.png'))).toEqual(png);
    for (const html of [
      await readFile(archived('email.html'), 'utf8'),
      await readFile(archived('page.html'), 'utf8'),
      await readFile(at(store, 'site/releases/h-image/index.html'), 'utf8'),
      await readFile(at(store, 'site/releases/h-image/email.html'), 'utf8'),
    ]) {
      expect(html).toContain(`src="${url}"`);
      // Images (the press room's page also has its search script, a relative src of its own).
      const sources = [...html.matchAll(/<img\s[^>]*?\bsrc="([^"]*)"/g)].map((m) => m[1]);
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.filter((src) => !/^https?:\/\//.test(src ?? ''))).toEqual([]);
    }

    // `render` too: its email is meant to be sent, so no relative src either.
    expectExit(await pressroom('render', `${publications}/h-image.md`, '--out', 'out/image'), 0);
    const rendered = await readFile(at('out/image/email.html'), 'utf8');
    expect(rendered).toContain(`src="${url}"`);
    expect(await readFile(at('out/image/files/images/h-photo.png'))).toEqual(png);
  });

  it('streams a large attachment: the archive, the press room and a render hold the same bytes', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    await writeFile(at(publications, 'attachments/h-large.bin'), bytes);
    await writeFile(
      at(publications, 'h-large.md'),
      publication('slug: h-large\nattachments: [attachments/h-large.bin]\n'),
    );
    const run = await pressroom('publish', `${publications}/h-large.md`, '--no-pdf', '--data-dir', store);
    expectExit(run, 0);
    const archived = (await readdir(at(store, 'archive/h-large'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(archived).toHaveLength(1);
    for (const copy of [
      at(store, 'archive/h-large', archived[0] ?? '', 'files/attachments/h-large.bin'),
      at(store, 'site/releases/h-large/files/attachments/h-large.bin'),
    ])
      expect(sha(await readFile(copy))).toBe(sha(bytes));
    expectExit(await pressroom('render', `${publications}/h-large.md`, '--out', 'out/large'), 0);
    expect(sha(await readFile(at('out/large/files/attachments/h-large.bin')))).toBe(sha(bytes));
  });

  it('takes bare release slugs as newsletter items', async () => {
    await writeFile(
      at('examples/newsletters/h-bare.md'),
      `---\ntitle: La lettre\ndate: 2024-03-15\npublishers: [villes-internet]\nintro: Bonjour.\nitems:\n  - open-data-barometer-2024\n  - h-image\n---\n`,
    );
    const run = await pressroom(
      'newsletter',
      'render',
      'examples/newsletters/h-bare.md',
      '--data-dir',
      store,
    );
    expectExit(run, 0);
    const email = await readFile(at('out/newsletters/h-bare/email.html'), 'utf8');
    expect(email).toContain('releases/open-data-barometer-2024/');
    expect(email).toContain('releases/h-image/');
    // The release's own image, from its press-room folder.
    expect(email).toContain('http://localhost:3000/releases/h-image/files/images/h-photo.png');
  });
});
