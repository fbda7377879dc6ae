import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspaceForFile, expectExit } from '../support/cli.ts';

/** The contacts commands as users run them: clear answers, exit codes, no stack. */

const workspace = exampleWorkspaceForFile('pressroom-contacts-cli-');
const { pressroom } = workspace;

function contacts(dataDir: string, ...args: string[]) {
  return pressroom('contacts', ...args, '--data-dir', dataDir);
}

async function importFile(dataDir: string, name: string, content: string | Uint8Array) {
  await writeFile(path.join(workspace.dir, name), content);
  return contacts(dataDir, 'import', name, '--list', 'presse');
}

describe('an address that is not a contact', () => {
  const data = 'unknown';
  // In this order: each known address's run changes the store for the next (erase last).
  it.each([
    ['show', []],
    ['unsubscribe', ['--list', 'presse']],
    ['unsubscribe', []],
    ['erase', []],
  ])('%s %s says there is no such contact, exits 1 and changes nothing', async (command, extra) => {
    if (command === 'show') expectExit(await importFile(data, 'unknown.csv', 'email\nzoe@example.org\n'), 0);
    const before = await readdir(path.join(workspace.dir, data), { recursive: true });
    const run = await contacts(data, command, 'nobody@example.org', ...extra);
    expectExit(run, 1);
    expect(run.stderr).toContain('no such contact: nothing is held about nobody@example.org');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(path.join(workspace.dir, data), { recursive: true })).toEqual(before);
    // A contact in another spelling of its address is found.
    expectExit(await contacts(data, command, 'ZOE@Example.org', ...extra), 0);
  });
});

describe('a damaged contact shard', () => {
  it('is named with how to repair it, exit 1, never a stack', async () => {
    const data = 'damaged';
    expectExit(await importFile(data, 'damaged.csv', 'email\nzoe@example.org\n'), 0);
    const index = JSON.parse(await readFile(path.join(workspace.dir, data, 'contacts/index.json'), 'utf8'));
    const shard = Object.values(index.shards)[0] as string;
    await writeFile(path.join(workspace.dir, data, shard), '{"contacts": {"cut short');
    for (const args of [
      ['list'],
      ['show', 'zoe@example.org'],
      ['export', '--list', 'presse', '--out', 'x.csv'],
    ]) {
      const run = await contacts(data, ...args);
      expectExit(run, 1);
      expect(run.stderr).toContain(
        `the store's file ${path.join(workspace.dir, data, shard)} is damaged and cannot be read`,
      );
      expect(run.stderr).toContain(
        'Restore it from a backup; on S3 with versioning, restore its previous version',
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('pressroom contacts import', () => {
  it('lists overlong and damaged values by line and column, with the names escaped', async () => {
    const data = 'overlong';
    const run = await importFile(
      data,
      'overlong.csv',
      `Courriel;Prénom;Nom\nzoe@example.org;Zoé;L\u001b[31mRouge\nlong@example.org;${'N'.repeat(101)};X\n`,
    );
    expectExit(run, 0);
    expect(run.stdout).toContain('added       0');
    expect(run.stdout).toContain('rejected    2');
    expect(run.stdout).toContain(
      'line 2, column "Nom": control character U+001B in the value: the file is damaged or in another encoding (value: "L\\u001b[31mRouge")',
    );
    expect(run.stdout).toContain('line 3, column "Prénom": 101 characters, more than the limit of 100');
    expect(run.stdout).not.toContain('\u001b');
  });

  it('says when it converted a file that was not UTF-8', async () => {
    const latin1 = Uint8Array.from(
      [...'email;prénom\nzoe@example.org;Zo'].map((c) => c.charCodeAt(0)).concat([0xe9, 0x0a]),
    );
    const run = await importFile('latin1', 'latin1.csv', latin1);
    expectExit(run, 0);
    expect(run.stderr).toContain('latin1.csv is in Windows-1252 (Latin-1), not UTF-8: converted.');
    const list = await contacts('latin1', 'list');
    expect(list.stdout).toContain('zoe@example.org  Zoé');
  });
});

describe('pressroom contacts export --delimiter', () => {
  it('writes ; with a BOM for spreadsheets set to French, which the import reads back', async () => {
    const data = 'export-fr';
    expectExit(await importFile(data, 'fr.csv', 'email;prénom;fonction\nzoe@example.org;Zoé;=chef\n'), 0);
    expectExit(
      await contacts(data, 'export', '--list', 'presse', '--out', 'fr-out.csv', '--delimiter', ';'),
      0,
    );
    const csv = await readFile(path.join(workspace.dir, 'fr-out.csv'), 'utf8');
    expect(csv).toBe(
      "\uFEFFemail;first name;last name;organisation;outlet;role;beats;language;phone;notes;tags;do not contact;status\nzoe@example.org;Zoé;;;;'=chef;;;;;;;subscribed\n",
    );
    const again = await contacts(data, 'import', 'fr-out.csv', '--list', 'presse');
    expect(again.stdout).toContain('unchanged   1');
    const wrong = await contacts(data, 'export', '--list', 'presse', '--out', 'x.csv', '--delimiter', '|');
    expectExit(wrong, 2);
  });
});

describe('pressroom contacts merge', () => {
  it('reports nothing to do on a store with canonical ids, and on a dry run writes nothing', async () => {
    const data = 'merge-clean';
    expectExit(await importFile(data, 'clean.csv', 'email\njose@exämple.fr\njose@xn--exmple-cua.fr\n'), 0);
    const dry = await contacts(data, 'merge', '--dry-run');
    expectExit(dry, 0);
    expect(dry.stdout).toContain('Dry run, nothing written: 1 contact(s) read; 0 to merge.');
    const json = await contacts(data, 'merge', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ contacts: 1, groups: [], dryRun: false });
  });
});
