import { describe, expect, it } from 'vitest';
import type { ExplainedRecommendation } from '../recommend/service.js';
import { productContent, renderPreview } from './content.js';

const rec = (product: Partial<ExplainedRecommendation['product']>): ExplainedRecommendation => ({
  productId: 'p1',
  product: { id: 'p1', title: 'Teapot', available: true, ...product },
  score: 1,
  source: 'neighbours',
  reasons: [],
});

const sender = { name: 'Shop', email: 'shop@example.com', postalAddress: '1 Main St' };

describe('campaign content: only web links reach an email', () => {
  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
  ])('a product URL %j falls back to the shop product page, its image is dropped', (bad) => {
    const content = productContent(rec({ url: bad, imageUrl: bad }), 'spring', 'https://shop.example');
    expect(content.url).toMatch(/^https:\/\/shop\.example\/products\/p1\?utm_source=tactful/);
    expect(content.imageUrl).toBeNull();
  });

  it('http(s) product and image URLs are kept as they are', () => {
    const content = productContent(
      rec({ url: 'https://shop.example/products/teapot?v=1', imageUrl: 'http://cdn.example/t.png' }),
      'spring',
      'https://shop.example',
    );
    expect(content.url).toMatch(/^https:\/\/shop\.example\/products\/teapot\?v=1&utm_source=tactful/);
    expect(content.imageUrl).toBe('http://cdn.example/t.png');
  });

  it('the preview renders no href or src that is not http(s), even from content built elsewhere', () => {
    const { html } = renderPreview({
      subject: 'Hi',
      sender,
      content: {
        products: [{ productId: 'p1', title: 'Teapot', url: 'javascript:alert(1)', imageUrl: 'javascript:alert(2)' }],
        reason: 'Because you bought Tea.',
        consentLine: 'You agreed.',
        preferencesUrl: 'https://app.example/preferences?token=t',
        unsubscribeUrl: 'https://app.example/unsubscribe?token=t',
      },
    });
    expect(html).not.toMatch(/(href|src)="javascript:/i);
    expect(html).toContain('Teapot');
  });
});
