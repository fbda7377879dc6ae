/**
 * pressroom.yaml: its format and its located errors, the lists it opens to subscription, the
 * precedence of the configuration (option > environment > pressroom.yaml > default), and the
 * defaults it gives campaign files.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignDefaults, loadConfig, NoWorkspaceError, smtpSettings, storeDir } from '../../bin/context.ts';
import { loadWorkspace } from '../../lambdas/adapters/workspace-file.ts';
import { loadCampaignFile } from '../../lambdas/core/campaigns/campaign-file.ts';
import { parseSubscribableLists } from '../../lambdas/core/contacts/subscription-lists.ts';
import { InvalidInputError, type Problem } from '../../lambdas/core/errors.ts';
import { openLists, parseWorkspaceFile } from '../../lambdas/core/workspace/settings.ts';
import { repo } from '../support/cli.ts';
import { memoryFiles } from '../support/memory-files.ts';

function problemsOf(text: string, exists: (id: string) => boolean = () => true): Problem[] {
  try {
    parseWorkspaceFile(text, 'pressroom.yaml', { organizationExists: exists });
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('no problem found');
}

describe('pressroom.yaml', () => {
  it('reads the examples workspace', async () => {
    const w = loadWorkspace(path.join(repo, 'examples/publications'), path.join(repo, 'examples'));
    expect(w?.root).toBe(path.join(repo, 'examples'));
    expect(w?.settings).toMatchObject({
      file: 'pressroom.yaml',
      name: 'Villes Internet',
      language: 'fr',
      timeZone: 'Europe/Paris',
      sender: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' },
      organizations: ['villes-internet', 'villes-de-france', 'open-cities-federation'],
      store: '.pressroom',
      mailer: { kind: 'outbox' },
    });
    expect(w?.settings.lists.presse).toMatchObject({ press: true, subscription: 'closed' });
    expect(w?.settings.lists.lettre).toMatchObject({
      press: false,
      subscription: 'open',
      title: { fr: 'La lettre de Villes Internet', en: 'The Villes Internet newsletter' },
    });
  });

  it('opens the same lists as examples/lists.yaml (the two files do not drift apart)', async () => {
    const w = loadWorkspace(path.join(repo, 'examples'));
    if (!w) throw new Error('examples/ is not a workspace');
    const fromWorkspace = openLists(w.settings.lists, {
      lang: 'fr',
      ...(w.settings.sender && { sender: w.settings.sender }),
      file: 'pressroom.yaml',
    });
    const fromListsFile = parseSubscribableLists(
      await readFile(path.join(repo, 'examples/lists.yaml'), 'utf8'),
      'lists.yaml',
    );
    expect(fromWorkspace).toEqual(fromListsFile);
  });

  it('docs/workspace.md: every YAML example is valid, and the full one is examples/pressroom.yaml', async () => {
    const doc = await readFile(path.join(repo, 'docs/workspace.md'), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) parseWorkspaceFile(block, 'docs/workspace.md');
    const example = doc.slice(doc.indexOf('## Example'));
    const shown = /```yaml\n([\s\S]*?)```/.exec(example)?.[1] ?? '';
    const real = await readFile(path.join(repo, 'examples/pressroom.yaml'), 'utf8');
    const { file: _a, ...fromDoc } = parseWorkspaceFile(shown, 'doc');
    const { file: _b, ...fromExamples } = parseWorkspaceFile(real, 'examples');
    // Lines differ (comments), settings do not.
    const withoutLines = (s: typeof fromDoc) =>
      JSON.parse(JSON.stringify(s, (key, value) => (key === 'line' ? undefined : value)));
    expect(withoutLines(fromDoc)).toEqual(withoutLines(fromExamples));
  });

  it('is valid empty: every key has a default', () => {
    expect(parseWorkspaceFile('# nothing yet\n', 'pressroom.yaml')).toEqual({
      file: 'pressroom.yaml',
      organizations: [],
      lists: {},
    });
  });

  it('locates every problem, suggests the key meant, and checks organisation files', () => {
    const problems = problemsOf(
      [
        'name: Villes Internet',
        'timezone: Europe/Paris',
        'language: de',
        'publicUrl: ftp://example.org',
        'organizations:',
        '  - villes-internet',
        '  - nowhere',
        'lists:',
        '  Presse:',
        '    press: yes',
        'store: ../elsewhere',
        'lateFireWindowMinutes: 0',
      ].join('\n'),
      (id) => id === 'villes-internet',
    );
    const shown = problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    expect(shown).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^2:1 timezone: unknown field "timezone": did you mean "timeZone"\?/),
        '3:11 language: must be "fr" or "en"',
        expect.stringMatching(/^4:12 publicUrl: must be an absolute http:\/\/ or https:\/\/ URL/),
        expect.stringMatching(/^9:3 lists\.Presse: a list name is lower-case letters/),
        '10:12 lists.Presse.press: must be true or false',
        '11:8 store: must be a folder inside the workspace (such as .pressroom), or an absolute path',
        '12:24 lateFireWindowMinutes: must be from 1 to 10080 minutes (a week)',
      ]),
    );
  });

  it('names a missing organisation file once the rest is right', () => {
    const [problem, ...more] = problemsOf(
      'organizations:\n  - villes-internet\n  - nowhere\n',
      (id) => id === 'villes-internet',
    );
    expect(more).toEqual([]);
    expect(problem).toMatchObject({ line: 3, column: 5, path: 'organizations[1]', value: 'nowhere' });
    expect(problem?.message).toContain('no file organizations/nowhere.yaml');
  });

  it('refuses a password in the file without ever echoing it', () => {
    const problems = problemsOf(
      'mailer:\n  kind: smtp\n  host: smtp.example.org\n  password: hunter2-secret\n',
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('set PRESSROOM_SMTP_PASSWORD in the environment');
    expect(JSON.stringify(problems)).not.toContain('hunter2');
    try {
      parseWorkspaceFile('mailer:\n  kind: smtp\n  password: hunter2-secret\n', 'pressroom.yaml');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('checks that the mailer settings fit the kind', () => {
    const shown = problemsOf('mailer:\n  kind: ses\n  host: smtp.example.org\n').map(
      (p) => `${p.path}: ${p.message}`,
    );
    expect(shown).toEqual(['mailer.host: is for kind: smtp only (kind is ses)']);
    expect(
      problemsOf('mailer:\n  kind: smtp\n  secure: true\n  starttls: true\n').map((p) => p.path),
    ).toEqual(['mailer.starttls']);
    expect(parseWorkspaceFile('mailer: ses\n', 'pressroom.yaml').mailer).toEqual({ kind: 'ses' });
    expect(
      parseWorkspaceFile(
        'mailer:\n  kind: smtp\n  host: h.example.org\n  port: 587\n  starttls: true\n  user: u\n',
        'p',
      ).mailer,
    ).toEqual({ kind: 'smtp', host: 'h.example.org', port: 587, requireTls: true, user: 'u' });
  });

  it('opens lists with subscription: open only, filling language and sender from the workspace', () => {
    const w = parseWorkspaceFile(
      'lists:\n  presse:\n  lettre:\n    subscription: open\n  en:\n    title: { en: News }\n    lang: en\n    subscription: open\n    from: "News <news@example.org>"\n',
      'pressroom.yaml',
    );
    expect(w.lists.presse).toMatchObject({
      press: false,
      subscription: 'closed',
      title: { fr: 'presse', en: 'presse' },
    });
    expect(() => openLists(w.lists, { lang: 'fr', file: 'pressroom.yaml' })).toThrow(
      /pressroom.yaml:3 lists.lettre: an open list needs a sender/,
    );
    const open = openLists(w.lists, {
      lang: 'fr',
      sender: { name: 'Villes', address: 'presse@example.org' },
      replyTo: 'contact@example.org',
      file: 'pressroom.yaml',
    });
    expect(Object.keys(open)).toEqual(['lettre', 'en']);
    expect(open.lettre).toEqual({
      name: 'lettre',
      title: { fr: 'lettre', en: 'lettre' },
      lang: 'fr',
      from: { name: 'Villes', address: 'presse@example.org' },
      replyTo: 'contact@example.org',
    });
    expect(open.en).toMatchObject({
      lang: 'en',
      title: { fr: 'News', en: 'News' },
      from: { address: 'news@example.org' },
    });
  });
});

describe('the configuration: option > environment > pressroom.yaml > default', () => {
  let top: string;
  let ws: string;
  let sub: string;
  const settings = [
    'language: en',
    'timeZone: America/Montreal',
    'publicUrl: https://press.example.org',
    'siteTitle: Newsroom',
    'lateFireWindowMinutes: 180',
    'sender: "Press office <press@example.org>"',
    'replyTo: desk@example.org',
    'store: data/store',
    'mailer:',
    '  kind: smtp',
    '  host: smtp.example.org',
    '  starttls: true',
    '  user: press@example.org',
    'lists:',
    '  journalists:',
    '    press: true',
    '  newsletter:',
  ].join('\n');

  beforeAll(async () => {
    top = await mkdtemp(path.join(tmpdir(), 'pressroom-config-'));
    ws = path.join(top, 'ws');
    sub = path.join(ws, 'publications', 'drafts');
    await mkdir(sub, { recursive: true });
    await writeFile(path.join(ws, 'pressroom.yaml'), `${settings}\n`);
  });
  afterAll(async () => {
    await rm(top, { recursive: true, force: true });
  });

  it('takes pressroom.yaml from the folder or above it, the store relative to the file', () => {
    const config = loadConfig({}, {}, sub);
    expect(config).toMatchObject({
      dataDir: path.join(ws, 'data/store'),
      dataDirFrom: 'workspace',
      workspace: { root: ws, file: path.join(ws, 'pressroom.yaml') },
      siteLang: 'en',
      timeZone: 'America/Montreal',
      publicUrl: 'https://press.example.org',
      siteUrl: 'https://press.example.org/',
      siteTitle: 'Newsroom',
      lateFireWindowMinutes: 180,
      sender: { name: 'Press office', address: 'press@example.org' },
      replyTo: 'desk@example.org',
      mailer: { kind: 'smtp', host: 'smtp.example.org', requireTls: true, user: 'press@example.org' },
    });
    expect(campaignDefaults(config)).toEqual({
      from: { name: 'Press office', address: 'press@example.org' },
      replyTo: 'desk@example.org',
      timeZone: 'America/Montreal',
      // What embargo: advance may mail (docs/sending.md).
      pressLists: ['journalists'],
    });
  });

  it('lets the environment override the file, and the option override both', () => {
    const env = {
      PRESSROOM_SITE_LANG: 'fr',
      PRESSROOM_TIME_ZONE: 'Europe/Paris',
      PRESSROOM_PUBLIC_URL: 'https://other.example.org',
      PRESSROOM_SENDER: 'Other <other@example.org>',
      PRESSROOM_DATA_DIR: 'env-store',
      PRESSROOM_SMTP_HOST: 'mail.example.net',
      PRESSROOM_SMTP_PORT: '2525',
      PRESSROOM_SMTP_PASSWORD: 'from-the-environment',
      PRESSROOM_LATE_FIRE_WINDOW_MINUTES: '30',
    };
    const config = loadConfig({}, env, sub);
    expect(config).toMatchObject({
      dataDir: path.join(sub, 'env-store'),
      dataDirFrom: 'PRESSROOM_DATA_DIR',
      siteLang: 'fr',
      timeZone: 'Europe/Paris',
      lateFireWindowMinutes: 30,
      publicUrl: 'https://other.example.org',
      // siteUrl follows publicUrl when neither the file nor the environment gives it
      siteUrl: 'https://other.example.org/',
      sender: { name: 'Other', address: 'other@example.org' },
      mailer: {
        kind: 'smtp',
        host: 'mail.example.net',
        port: 2525,
        requireTls: true,
        user: 'press@example.org',
        password: 'from-the-environment',
      },
    });
    expect(loadConfig({ dataDir: 'opt-store' }, env, sub)).toMatchObject({
      dataDir: path.join(sub, 'opt-store'),
      dataDirFrom: '--data-dir',
    });
    // Another kind in the environment: the file's SMTP settings do not apply.
    expect(loadConfig({}, { PRESSROOM_MAILER: 'outbox' }, sub).mailer).toEqual({ kind: 'outbox' });
  });

  it('falls back to the defaults outside a workspace, with no store', () => {
    const config = loadConfig({}, {}, top);
    expect(config.workspace).toBeUndefined();
    expect(config.dataDir).toBeUndefined();
    expect(config).toMatchObject({
      siteLang: 'fr',
      publicUrl: 'http://localhost:3000',
      siteUrl: 'http://localhost:3000/',
      lateFireWindowMinutes: 60,
      mailer: { kind: 'outbox' },
    });
    expect(() => storeDir(config, top)).toThrow(NoWorkspaceError);
    // An empty variable names no store (it would otherwise make the current folder one).
    expect(loadConfig({}, { PRESSROOM_DATA_DIR: '' }, top).dataDir).toBeUndefined();
    expect(() => storeDir(config, top)).toThrow('no workspace here: run `pressroom init` or pass --data-dir');
  });

  it('names a bad variable and a bad file', async () => {
    expect(() => loadConfig({}, { PRESSROOM_SENDER: 'nobody' }, sub)).toThrow(
      /PRESSROOM_SENDER must be "Display Name <address@example.org>"/,
    );
    expect(() => loadConfig({}, { PRESSROOM_SMTP_PASSWORD: '' }, sub)).toThrow(/value not shown/);
    const bad = path.join(top, 'bad');
    await mkdir(path.join(bad, 'inner'), { recursive: true });
    await writeFile(path.join(bad, 'pressroom.yaml'), 'languge: fr\n');
    expect(() => loadConfig({}, {}, path.join(bad, 'inner'))).toThrow(
      /\.\.\/pressroom\.yaml:1:1 languge: unknown field "languge": did you mean "language"\?/,
    );
  });

  it('asks for the SMTP server and the password by their names, when the mailer is built', () => {
    const settings = {
      host: 'smtp.example.org',
      port: 587,
      requireTls: true,
      user: 'a@b.org',
      password: 'x',
    };
    expect(smtpSettings({ kind: 'smtp', ...settings })).toEqual(settings);
    expect(() => smtpSettings({ kind: 'smtp', host: 'smtp.example.org', user: 'a@b.org' })).toThrow(
      /needs its password: set PRESSROOM_SMTP_PASSWORD/,
    );
    expect(() => smtpSettings({ kind: 'smtp', host: 'smtp.example.org', password: 'x' })).toThrow(
      /PRESSROOM_SMTP_PASSWORD is set without a login/,
    );
    expect(() => smtpSettings({ kind: 'smtp' })).toThrow(/needs a server: set mailer.host in pressroom.yaml/);
  });

  it('encrypts SMTP by default: STARTTLS required, or TLS on port 465; plain only when asked', () => {
    const mailer = (env: NodeJS.ProcessEnv) =>
      loadConfig({}, { PRESSROOM_MAILER: 'smtp', PRESSROOM_SMTP_HOST: 'smtp.example.org', ...env }, tmpdir())
        .mailer;
    expect(mailer({})).toMatchObject({ port: 587, secure: false, requireTls: true });
    expect(mailer({ PRESSROOM_SMTP_PORT: '465' })).toMatchObject({
      port: 465,
      secure: true,
      requireTls: false,
    });
    expect(mailer({ PRESSROOM_SMTP_SECURE: 'tls' })).toMatchObject({ port: 465, secure: true });
    expect(mailer({ PRESSROOM_SMTP_SECURE: 'none', PRESSROOM_SMTP_PORT: '25' })).toMatchObject({
      port: 25,
      secure: false,
      requireTls: false,
    });
  });
});

describe('campaign files in a workspace', () => {
  const campaign = (extra: string) =>
    memoryFiles({ 'c.yaml': `name: c\npublication: p\naudience:\n  list: presse\n${extra}` });
  const defaults = {
    from: { name: 'Villes Internet', address: 'presse@villes-internet.example.org' },
    replyTo: 'contact@villes-internet.example.org',
    timeZone: 'Europe/Paris',
  };

  it("take the workspace's sender and reply address when they give none", async () => {
    const c = await loadCampaignFile('c.yaml', campaign(''), defaults);
    expect(c.from).toEqual(defaults.from);
    expect(c.replyTo).toBe(defaults.replyTo);
    const own = await loadCampaignFile('c.yaml', campaign('from: "Me <me@example.org>"\n'), defaults);
    expect(own.from).toEqual({ name: 'Me', address: 'me@example.org' });
  });

  it('are read as publications are: converted with a notice, refused outside the workspace or with a NUL', async () => {
    // "Équipe" saved by a French Windows editor: É is 0xC9 in Windows-1252.
    const latin = Uint8Array.from([
      ...new TextEncoder().encode('name: c\npublication: p\naudience:\n  list: presse\nsubject: "'),
      0xc9,
      ...new TextEncoder().encode('quipe"\n'),
    ]);
    const notices: string[] = [];
    const c = await loadCampaignFile('c.yaml', memoryFiles({ 'c.yaml': latin }), defaults, notices);
    expect(c.subject).toBe('Équipe');
    expect(notices).toEqual([expect.stringMatching(/^c\.yaml is not UTF-8: read as Windows-1252/)]);
    const outside = memoryFiles({ 'other/c.yaml': 'name: c\n' }, { root: 'work/' });
    await expect(loadCampaignFile('other/c.yaml', outside, defaults)).rejects.toThrow(
      /other\/c\.yaml: this file is outside the workspace work\//,
    );
    await expect(loadCampaignFile('c.yaml', campaign('subject: "a\u0000b"\n'), defaults)).rejects.toThrow(
      /c\.yaml:5.*control character/i,
    );
  });

  it('need a sender when the workspace has none', async () => {
    await expect(loadCampaignFile('c.yaml', campaign(''))).rejects.toThrow(
      /c\.yaml:1 from: is required: write from: "Name <address@example.org>" here, or set sender in pressroom.yaml/,
    );
  });

  it("read a sendAt without zone or offset in the workspace's zone", async () => {
    const summer = await loadCampaignFile('c.yaml', campaign('sendAt: 2031-06-10 08:00\n'), defaults);
    expect(summer.sendAt).toEqual({
      utc: '2031-06-10T06:00:00.000Z',
      zone: 'Europe/Paris',
      written: '2031-06-10 08:00 Europe/Paris',
    });
    const winter = await loadCampaignFile('c.yaml', campaign('sendAt: "2031-12-10T08:00"\n'), defaults);
    expect(winter.sendAt?.utc).toBe('2031-12-10T07:00:00.000Z');
    const offset = await loadCampaignFile(
      'c.yaml',
      campaign('sendAt: "2031-06-10T08:00:00+00:00"\n'),
      defaults,
    );
    expect(offset.sendAt?.utc).toBe('2031-06-10T08:00:00.000Z');
    await expect(
      loadCampaignFile('c.yaml', campaign('sendAt: 2031-06-10 08:00\n'), { from: defaults.from }),
    ).rejects.toThrow(/sendAt: must be a date-time with an offset/);
  });
});

describe('the organisation the press room is named after', () => {
  let top: string;
  beforeAll(async () => {
    top = await mkdtemp(path.join(tmpdir(), 'pressroom-organisation-'));
  });
  afterAll(async () => {
    await rm(top, { recursive: true, force: true });
  });

  async function workspace(name: string, settings: string, organizations: Record<string, string> = {}) {
    const ws = path.join(top, name);
    await mkdir(path.join(ws, 'organizations'), { recursive: true });
    await writeFile(path.join(ws, 'pressroom.yaml'), settings);
    for (const [id, text] of Object.entries(organizations))
      await writeFile(path.join(ws, 'organizations', `${id}.yaml`), text);
    return ws;
  }

  it('is the first organisation of the workspace, from its file, with its article', async () => {
    const ws = await workspace('two', 'name: Le réseau\norganizations: [federation, other]\n', {
      federation: 'name: Fédération des villes\narticle: la\nabout: Une fédération.\n',
      other: 'name: Autre\n',
    });
    expect(loadConfig({}, {}, ws).siteOrganization).toEqual({ name: 'Fédération des villes', article: 'la' });
  });

  it('is the workspace’s name when its organisation file cannot be used, and nothing without either', async () => {
    const broken = await workspace('broken', 'name: Villes Internet\norganizations: [vi]\n', {
      vi: 'name: [not, a, name]\n',
    });
    expect(loadConfig({}, {}, broken).siteOrganization).toEqual({ name: 'Villes Internet' });
    const bare = await workspace('bare', 'language: en\n');
    expect(loadConfig({}, {}, bare).siteOrganization).toBeUndefined();
    expect(loadConfig({}, {}, top).siteOrganization).toBeUndefined();
  });

  it('is Villes Internet for the examples', () => {
    expect(loadConfig({}, {}, path.join(repo, 'examples')).siteOrganization).toEqual({
      name: 'Villes Internet',
    });
  });
});
