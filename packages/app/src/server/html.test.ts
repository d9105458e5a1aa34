import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonForScript, raw } from './html.js';
import { labelTableCells, safeUrl } from './layout.js';
import { redactPath } from './request-log.js';

describe('escapeHtml and html', () => {
  it('escapes the characters that can open a tag, an entity or an attribute', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>\``)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;&#96;',
    );
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });

  it('escapes every interpolation, arrays included, and keeps nested templates', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    const out = html`<a title="${evil}">${[evil, html`<b>${evil}</b>`]}</a>`.value;
    expect(out).not.toContain('<img');
    expect(out).toContain('<b>&quot;&gt;&lt;img');
    expect(out.startsWith('<a title="&quot;&gt;&lt;img')).toBe(true);
    expect(html`${false}${null}${undefined}${raw('<hr>')}`.value).toBe('<hr>');
  });

  it('JSON for a script block cannot close the block', () => {
    const out = jsonForScript({ t: '</script><script>alert(1)</script>', u: '\u2028' }).value;
    expect(out).not.toContain('</script');
    expect(JSON.parse(out)).toEqual({ t: '</script><script>alert(1)</script>', u: '\u2028' });
  });

  it('safeUrl lets http(s) and same-site paths through, nothing else', () => {
    expect(safeUrl('https://shop.example/terms#4')).toBe('https://shop.example/terms#4');
    expect(safeUrl('/preferences?token=a')).toBe('/preferences?token=a');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,x',
      '//evil.example',
      'not a url',
      '',
    ])
      expect(safeUrl(bad)).toBe('#');
  });
});

describe('redactPath', () => {
  it('hides secrets and emails in paths, keeps the route', () => {
    expect(redactPath('/mailchimp/webhooks/0123456789abcdef0123456789abcdef')).toBe('/mailchimp/webhooks/:redacted');
    expect(redactPath('/admin/audit')).toBe('/admin/audit');
    expect(redactPath('/x/ana@example.com')).toBe('/x/:redacted');
  });
});

describe('labelTableCells', () => {
  it('gives each body cell its column header as data-label, for stacked rows on a phone', () => {
    const out = labelTableCells(
      '<table><thead><tr><th>Name</th><th class="num">Orders <span>(all)</span></th><th></th></tr></thead>' +
        '<tbody><tr><td>Ada</td><td class="num">3</td><td><a href="#">open</a></td></tr>' +
        '<tr><td colspan="3">none</td></tr></tbody></table><p>after</p>',
    );
    expect(out).toContain('<td data-label="Name">Ada</td><td data-label="Orders (all)" class="num">3</td><td><a');
    expect(out).toContain('<td colspan="3">none</td>');
    expect(out).toContain('<p>after</p>');
  });

  it('leaves tables without a header row, and text outside tables, as they are', () => {
    const markup = '<table><tr><td>x</td></tr></table><p>&lt;td&gt;</p>';
    expect(labelTableCells(markup)).toBe(markup);
  });
});
