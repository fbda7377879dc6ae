import libqp from 'libqp';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  BodyEncoder,
  type CampaignParts,
  composerFromSkeleton,
  type PersonalParts,
  storedComposer,
} from '../../lambdas/core/campaigns/message.ts';
import {
  buildSkeleton,
  createMessageComposer,
  encodeTo,
  storeSkeleton,
} from '../../lambdas/core/campaigns/message-skeleton.ts';
import { prng } from '../support/cli.ts';

/** A template-like body: many shared lines, a few personal ones, lines that come and go. */
function body(random: () => number, i: number): string {
  const lines: string[] = [];
  for (let n = 0; n < 120; n++) {
    if (n === 3) lines.push(`Bonjour ${'Ééà'.repeat(i % 4)} n°${i},`);
    if (n === 50 && i % 3 === 0) lines.push('Une ligne que seuls certains reçoivent.');
    if (n === 80 && random() < 0.2) lines.push(`<a href="https://example.org/u/${i}">désinscription</a>  `);
    lines.push(
      n % 7 === 0
        ? `${'long =texte '.repeat(12)}fin`
        : n % 11 === 0
          ? 'trailing spaces   '
          : `ligne ${n} — « citation » = égal\t`,
    );
  }
  return lines.join(i % 2 === 0 ? '\n' : '\r\n');
}

describe('BodyEncoder', () => {
  it('gives, message after message, what a fresh encoder gives, and decodes to the input', () => {
    const random = prng(7);
    const shared = new BodyEncoder(20_000);
    for (let i = 0; i < 60; i++) {
      const text = body(random, i);
      const encoded = shared.encode(text);
      expect(encoded).toBe(new BodyEncoder().encode(text));
      expect(libqp.decode(encoded).toString('utf8')).toBe(text.replace(/\r?\n/g, '\r\n'));
      for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    }
  });

  it('keeps a bounded number of lines, whatever the audience', () => {
    const encoder = new BodyEncoder(10);
    for (let i = 0; i < 50; i++) {
      const text = `a\nb ${i}\nc ${i}\nd`;
      expect(libqp.decode(encoder.encode(text)).toString('utf8')).toBe(text.replace(/\n/g, '\r\n'));
    }
    // biome-ignore lint/complexity/useLiteralKeys: a look at the private cache
    expect((encoder as unknown as { lines: Map<string, string> })['lines'].size).toBeLessThanOrEqual(10);
  });
});

describe('createMessageComposer', () => {
  const common: CampaignParts = {
    from: { name: 'Fédération « Villes »', address: 'presse@example.org' },
    replyTo: 'contact@example.org',
    subject: 'Étude 2021 — résultats',
    listId: '<presse.example.org>',
    attachments: [
      { filename: 'etude.pdf', content: new Uint8Array([37, 80, 68, 70]), contentType: 'application/pdf' },
    ],
  };
  const personal = (i: number): PersonalParts => ({
    to: { name: `Jöhn ${i} Ünterwälder-Mëyer de la Fontaine-Saint-Étienne`, address: `john${i}@exämple.com` },
    html: `<p>Bonjour ${i}</p>\n<p>é = è</p>`,
    text: `Bonjour ${i}\né = è`,
    messageId: `<c.${i}@example.org>`,
    date: new Date(Date.UTC(2021, 5, 8, 6, i)),
    unsubscribe: { url: `https://press.example.org/unsubscribe/${i}`, mailto: 'mailto:presse@example.org' },
  });

  it('reads back, header for header and part for part, as MailComposer composing it whole', async () => {
    const compose = await createMessageComposer(common);
    for (const i of [1, 2, 3]) {
      const p = personal(i);
      const ours = await simpleParser(Buffer.from(compose(p)));
      const whole = await simpleParser(
        await new MailComposer({
          ...common,
          to: p.to,
          html: p.html as string,
          text: p.text as string,
          messageId: p.messageId,
          date: p.date,
          headers: {
            'List-Unsubscribe': `<${p.unsubscribe.url}>, <${p.unsubscribe.mailto}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            'List-Id': common.listId,
          },
          attachments: common.attachments?.map((a) => ({ ...a, content: Buffer.from(a.content) })),
        })
          .compile()
          .build(),
      );
      for (const key of ['from', 'to', 'reply-to', 'subject', 'message-id', 'date', 'list-unsubscribe-post'])
        expect(ours.headers.get(key), key).toEqual(whole.headers.get(key));
      expect(ours.headers.get('list')).toEqual(whole.headers.get('list'));
      expect(ours.html).toBe(whole.html);
      expect(ours.text).toBe(whole.text);
      expect(ours.attachments.map((a) => [a.filename, a.contentType, a.content.toString('hex')])).toEqual(
        whole.attachments.map((a) => [a.filename, a.contentType, a.content.toString('hex')]),
      );
    }
  });

  it('gives, from segments, a message that reads back as the whole text, lines within 76', async () => {
    const compose = await createMessageComposer(common);
    const cases: [string[], string[]][] = [
      // Segments that end lines, an empty one, one that ends the text without a line break.
      [
        ['<p>début</p>\n<p>é = è</p>\n', '', '<p>Bonjour Zoé</p>\n', 'fin  '],
        ['début\n', 'Bonjour Zoé\n', '=fin\n'],
      ],
      // Segments that stop mid-line (text before and after a placeholder), long ones, spaces.
      [
        [
          `<div style="${'font-family:Helvetica;'.repeat(8)}">`,
          'Bonjour Zoé ',
          `,</div>\n<a href="`,
          'https://x.example/u/é',
          '">x</a> ',
        ],
        ['Bonjour ', 'Zoé', ',\n', '\t', `${'é'.repeat(50)}\n`],
      ],
    ];
    for (const [html, text] of cases) {
      for (let i = 0; i < 3; i++) {
        const raw = Buffer.from(compose({ ...personal(i), html, text }));
        const parsed = await simpleParser(raw);
        expect(parsed.html).toBe(html.join(''));
        expect(parsed.text).toBe(text.join(''));
        // The body's lines (headers may be longer: RFC 5322 allows 998).
        const body = raw.toString('latin1').slice(raw.toString('latin1').indexOf('\r\n\r\n'));
        for (const line of body.split('\r\n')) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).not.toMatch(/[ \t]$/);
        }
      }
    }
  });

  it('writes one recipient in To and no stand-in anywhere', async () => {
    const compose = await createMessageComposer(common);
    const raw = Buffer.from(compose(personal(5))).toString('utf8');
    expect(raw).not.toMatch(/@@pressroom-|pressroom\.invalid|Thu, 01 Jan 1970/);
    expect(raw.match(/^To: /gm)).toHaveLength(1);
    expect(raw).not.toMatch(/^(Cc|Bcc): /m);
    const parsed = await simpleParser(raw);
    expect(parsed.to).toMatchObject({ value: [{ address: 'john5@exämple.com' }] });
  });

  it('fills a skeleton read back from JSON into the same bytes as the skeleton it was built as', async () => {
    const skeleton = await buildSkeleton(common);
    const stored = JSON.parse(JSON.stringify(skeleton));
    const fresh = composerFromSkeleton(skeleton, { listId: common.listId, encodeTo });
    const readBack = composerFromSkeleton(stored, { listId: common.listId, encodeTo });
    for (let i = 0; i < 5; i++) {
      const bytes = Buffer.from(readBack(personal(i)));
      expect(bytes.equals(Buffer.from(fresh(personal(i))))).toBe(true);
      // The attachment is in the skeleton: it reaches every message.
      expect((await simpleParser(bytes)).attachments.map((a) => a.filename)).toEqual(['etude.pdf']);
    }
  });

  it('refuses a skeleton without every slot once, naming what it has', async () => {
    const { pieces } = await buildSkeleton(common);
    const withoutHtml = [...pieces];
    withoutHtml.splice(withoutHtml.indexOf('html'), 2);
    const twice = pieces.map((p, i) => (i % 2 === 1 && p === 'date' ? 'messageId' : p));
    const campaign = { listId: common.listId, encodeTo };
    expect(() => composerFromSkeleton({ pieces: withoutHtml }, campaign)).toThrow(
      /has the slots messageId, unsubscribe, listId, to, date, text; it needs .*html/,
    );
    expect(() => composerFromSkeleton({ pieces: twice }, campaign)).toThrow(/slots .*messageId.*messageId/);
    expect(() => composerFromSkeleton({ pieces: pieces.slice(1) }, campaign)).toThrow(
      /not a list of texts and slots/,
    );
    expect(() => composerFromSkeleton({} as never, campaign)).toThrow(/not a list of texts and slots/);
  });

  it('encodes To as MimeNode does in a whole message: UTF-8 names encoded, lines folded at 76', async () => {
    const to = { name: 'Jöhn Ünterwälder-Mëyer de la Fontaine-Saint-Étienne', address: 'john@exämple.com' };
    const value = encodeTo(to);
    for (const line of `To: ${value}`.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    const whole = await new MailComposer({ to, from: 'a@example.org', text: 'x' }).compile().build();
    expect(whole.toString('utf8')).toContain(`\r\nTo: ${value}\r\n`);
  });

  /** A message with its multipart boundaries numbered in order: the only bytes that differ from run to run. */
  const withoutBoundaries = (message: Uint8Array) => {
    let text = Buffer.from(message).toString('latin1');
    const boundaries = [...new Set([...text.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1] as string))];
    expect(boundaries.length).toBeGreaterThan(0);
    boundaries.forEach((b, i) => {
      text = text.split(b).join(`boundary-${i}`);
    });
    return text;
  };

  it('composes, from the skeleton dispatch stored and the To it encoded, the bytes composed in one process', async () => {
    const store = new MemoryObjectStore({
      signingSecret: 'x'.repeat(32),
      publicUrl: 'https://press.example.org',
    });
    await storeSkeleton(store, 'etude', common);
    const stored = await storedComposer(store, 'etude')(common);
    const fresh = await createMessageComposer(common);
    for (let i = 0; i < 6; i++) {
      const own = { ...personal(i), ...(i % 2 === 1 && { to: { address: `plain${i}@example.com` } }) };
      const queued = { ...own, toHeader: encodeTo(own.to) };
      expect(withoutBoundaries(stored(queued))).toBe(withoutBoundaries(fresh(own)));
    }
  });

  it('refuses, from the store, a campaign whose parts changed since dispatch, a To not encoded and a To that is not a header', async () => {
    const store = new MemoryObjectStore({
      signingSecret: 'x'.repeat(32),
      publicUrl: 'https://press.example.org',
    });
    await storeSkeleton(store, 'etude', common);
    await expect(storedComposer(store, 'etude')({ ...common, subject: 'Autre objet' })).rejects.toThrow(
      /campaign "etude" has no message skeleton at campaigns\/etude\/messages\/[0-9a-f]{32}\.json .*dispatch it again/,
    );
    const stored = await storedComposer(store, 'etude')(common);
    expect(() => stored(personal(1))).toThrow(/has no encoded To .*dispatch the campaign again/);
    const injected = () => stored({ ...personal(1), toHeader: 'a@example.org\r\nBcc: b@example.org' });
    expect(injected).toThrow(/folded lines without control characters/);
    // The error may be logged: it names no address.
    expect(injected).not.toThrow(/@/);
    const folded = encodeTo(personal(1).to);
    expect(folded).toContain('\r\n ');
    expect(Buffer.from(stored({ ...personal(1), toHeader: folded })).toString('utf8')).toContain(
      `\r\nTo: ${folded}\r\n`,
    );
  });
});
