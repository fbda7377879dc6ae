import { describe, expect, it } from 'vitest';
import { htmlToText, inlineMarkdownToHtml, markdownToHtml } from '../../lambdas/core/render/markdown.ts';

describe('markdownToHtml sanitises', () => {
  it.each([
    ['a <script>', 'Texte <script>alert(1)</script> fin', /<script|alert\(1\)/i],
    ['an event handler', '<img src="https://example.org/x.png" onerror="alert(1)">', /onerror/i],
    ['a javascript: link', '[clic](javascript:alert(1))', /href="javascript:/i],
    ['a javascript: link in raw HTML', '<a href="javascript:alert(1)">x</a>', /javascript:/i],
    ['an encoded javascript: link', '<a href="jav&#x09;ascript:alert(1)">x</a>', /ascript:/i],
    [
      'a data: URL',
      '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a> ![i](data:image/png;base64,AAAA)',
      /data:/i,
    ],
    ['a <style>', '<style>body{display:none}</style>Texte', /<style|display:none/i],
    ['an <iframe>', '<iframe src="https://evil.example"></iframe>', /<iframe|evil/i],
    ['a style attribute', '<p style="position:fixed">x</p>', /position:fixed/i],
    ['a form', '<form action="https://evil.example"><input name=x></form>', /<form|<input/i],
  ])('removes %s', (_name, source, forbidden) => {
    const html = markdownToHtml(source);
    expect(html).not.toMatch(forbidden);
  });

  it('keeps ordinary formatting, links and French typography', () => {
    const html = markdownToHtml(
      '## Section\n\nUn **texte** avec un [lien](https://example.org/a?b=1&c=2), « guillemets », l’apostrophe et Saumur (49) @@@@@ 2021.',
    );
    expect(html).toContain('<h2>Section</h2>');
    expect(html).toContain('<strong>texte</strong>');
    expect(html).toContain('<a href="https://example.org/a?b=1&amp;c=2">lien</a>');
    expect(html).toContain('«\u00a0guillemets\u00a0»'.replace(/\u00a0/g, ' '));
    expect(html).toContain('l’apostrophe');
    expect(html).toContain('@@@@@ 2021');
  });

  it('turns a level-1 heading into a section heading', () => {
    expect(markdownToHtml('# Titre')).toBe('<h2>Titre</h2>');
  });

  it('renders a lead inline, without a paragraph', () => {
    expect(inlineMarkdownToHtml('Une **étude** <b onclick="x()">inédite</b>')).toBe(
      'Une <strong>étude</strong> <b>inédite</b>',
    );
  });
});

describe('htmlToText', () => {
  it('keeps headings in their case and shows link targets', () => {
    const text = htmlToText('<h2>À propos</h2><p>Voir <a href="https://example.org">le site</a>.</p>');
    expect(text).toBe('À propos\n\nVoir le site [https://example.org].');
  });
});
