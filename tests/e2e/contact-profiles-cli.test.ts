import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleWorkspace, expectExit, type Run, runPressroom } from '../support/cli.ts';
import { publishToPressList } from '../support/press-list.ts';
import { outboxEnv } from '../support/serve.ts';

/**
 * Press contact profiles through the real command: the example press list (French headers)
 * imported with outlets, beats, phones and notes; `contacts set` and `contacts show` (the
 * access export, with the history); a campaign selecting a beat sends to the outbox, leaving
 * out a do-not-contact person of that beat and everyone of other beats.
 */

const seed = 'examples/publications/2021-06-08-numerique-gestion-de-crise.md';
const camille = 'camille.martin@quotidien-ouest.example.com';
const karim = 'karim.benali@radio-cite.example.org';
const julien = 'j.lefevre@radio-cite.example.org';
/** The example journalists whose beats include "Numérique". */
const numerique = [
  camille,
  'thomas.petit@gazette-numerique.example.org',
  'hugo.lambert@webzine-tech.example.org',
  'chloe.mercier@magazine-villes.example.com',
  'ines.henry@podcast-cites.example.org',
  'mroussel@gazette-numerique.example.org',
  'romain.fournier@radio-nationale.example.org',
  'jeanne.chevalier@euro-cities-news.example.org',
  'baptiste.lemoine@quotidien-ouest.example.com',
  karim,
];

describe('press contact profiles through the command line', { timeout: 180_000 }, () => {
  let work: string;
  let data: string;
  const pressroom = (...args: string[]): Promise<Run> =>
    runPressroom(args, {
      cwd: work,
      env: outboxEnv({
        data,
        secret: 'e2e-profiles-secret-0123456789abcdef',
        publicUrl: 'https://press.example.org',
      }),
    });
  const show = async (email: string) => {
    const run = await pressroom('contacts', 'show', email, '--json');
    expectExit(run, 0);
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    work = await exampleWorkspace('pressroom-profiles-cli-');
    data = path.join(work, 'data');
    await publishToPressList(pressroom, [seed]);
  }, 120_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports the French headers of the example into the profile, which `contacts show` gives whole', async () => {
    const found = await show(camille);
    expect(found.contact).toMatchObject({
      email: camille,
      firstName: 'Camille',
      outlet: 'Quotidien de l’Ouest',
      role: 'Rédactrice en chef adjointe',
      beats: ['Numérique', 'Société'],
      language: 'fr',
      phone: '01 99 00 01 03',
      notes: 'Préfère recevoir les communiqués avant 9 h',
      tags: ['national', 'numérique'],
    });
    expect(found.contact.doNotContact).toBeUndefined();
    expect(found.history).toEqual({
      received: [],
      notSent: [],
      bounces: [],
      complaints: [],
      unsubscribes: [],
    });
  });

  it('sets profile fields and do-not-contact for one contact, refusing bad values with the option and value', async () => {
    const set = await pressroom(
      'contacts',
      'set',
      karim,
      '--do-not-contact',
      '--notes',
      'Ne plus solliciter',
    );
    expectExit(set, 0);
    expect(set.stdout).toContain('Updated notes, do-not-contact (set).');
    const bad = await pressroom('contacts', 'set', karim, '--language', 'klingon', '--phone', '01\n02');
    expectExit(bad, 2);
    expect(bad.stderr).toContain('--language "klingon": not a language pressroom knows');
    expect(bad.stderr).toContain('--phone "01\\n02": a phone number is one line');
    const nothing = await pressroom('contacts', 'set', karim);
    expectExit(nothing, 2);
    expect(nothing.stderr).toContain('nothing to set');
    const unknown = await pressroom('contacts', 'set', 'nobody@example.org', '--outlet', 'X');
    expectExit(unknown, 1);
    expect(unknown.stderr).toContain('no such contact');
    const found = await show(karim);
    expect(found.contact).toMatchObject({
      notes: 'Ne plus solliciter',
      doNotContact: { source: 'cli', at: expect.any(String) },
      beats: ['Numérique', 'Culture'],
    });
    // A re-import of the example (no do-not-contact for Karim in it) keeps the flag and the notes.
    expectExit(
      await pressroom('contacts', 'import', 'examples/contacts/journalistes.csv', '--list', 'presse'),
      0,
    );
    expect((await show(karim)).contact).toMatchObject({
      notes: 'Ne plus solliciter',
      doNotContact: { source: 'cli' },
    });
    const list = await pressroom('contacts', 'list', '--list', 'presse');
    expect(list.stdout).toMatch(/karim\.benali@radio-cite\.example\.org .*do-not-contact/);
  });

  it('sends a campaign selecting a beat to its journalists only, never to the do-not-contact one', async () => {
    await writeFile(
      path.join(work, 'numerique.yaml'),
      [
        'name: etude-numerique',
        'publication: gestion-de-crise-avec-le-numerique-les-villes-moyennes-resilientes',
        'audience:',
        '  list: presse',
        '  beats: [numérique]',
        'from: "Villes Internet <presse@villes-internet.example.org>"',
        '',
      ].join('\n'),
    );
    const dry = await pressroom('send', 'numerique.yaml', '--dry-run');
    expectExit(dry, 0);
    expect(dry.stdout).toMatch(/audience\s+9 /);
    expect(dry.stdout).toContain('do not contact 1: matching the audience, left out (never mailed)');
    const sent = await pressroom('send', 'numerique.yaml', '--json');
    expectExit(sent, 0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ state: 'sent', audience: 9, sent: 9, doNotContact: 1 });
    const outbox = path.join(data, 'outbox', 'etude-numerique');
    const files = await readdir(outbox);
    expect(files).toHaveLength(9);
    const messages = await Promise.all(files.map((f) => readFile(path.join(outbox, f), 'utf8')));
    // Each journalist of the beat in exactly one message; the do-not-contact one and another beat's in none.
    for (const email of numerique.filter((e) => e !== karim))
      expect(
        messages.filter((m) => m.includes(email)),
        email,
      ).toHaveLength(1);
    for (const email of [karim, julien])
      expect(
        messages.filter((m) => m.includes(email)),
        email,
      ).toEqual([]);
  });

  it('shows each person’s history from the ledgers, and exports the profile columns', async () => {
    const history = (await show(camille)).history;
    expect(history.received).toEqual([{ campaign: 'etude-numerique', at: expect.any(String) }]);
    expect(history.lastContacted).toBe(history.received[0].at);
    expect((await show(karim)).history.received).toEqual([]);
    expect((await show(julien)).history.received).toEqual([]);

    expectExit(await pressroom('contacts', 'export', '--list', 'presse', '--out', 'presse.csv'), 0);
    const csv = (await readFile(path.join(work, 'presse.csv'), 'utf8')).replace(/^\uFEFF/, '');
    expect(csv.split('\n')[0]).toBe(
      'email,first name,last name,organisation,outlet,role,beats,language,phone,notes,tags,do not contact,status',
    );
    expect(csv).toContain(
      `${karim},Karim,Benali,,Radio Cité,Journaliste,"Numérique, Culture",fr,06 39 98 30 10,Ne plus solliciter,"numérique, radio",yes,subscribed`,
    );

    // Lifted by hand: the next campaign of that beat reaches Karim again.
    const lift = await pressroom('contacts', 'set', karim, '--no-do-not-contact');
    expectExit(lift, 0);
    expect(lift.stdout).toContain('do-not-contact (lifted)');
    const dry = await pressroom('send', 'numerique.yaml', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toMatchObject({ audience: 10, alreadyDone: 9, doNotContact: 0 });
  });
});
