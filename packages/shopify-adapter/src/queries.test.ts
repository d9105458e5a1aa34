import { describe, expect, it } from 'vitest';
import { allDocuments } from './queries.js';
import { validateDocument } from './testing/schema.js';
import * as queries from './queries.js';

describe('GraphQL documents', () => {
  it('lists every document the adapter sends', () => {
    const exported = Object.entries(queries)
      .filter(([name, value]) => typeof value === 'string' && name !== 'API_VERSION')
      .map(([name]) => name)
      .sort();
    expect(Object.keys(allDocuments).sort()).toEqual(exported);
  });

  for (const [name, source] of Object.entries(allDocuments)) {
    it(`${name} validates against the Admin API 2025-10 schema`, () => {
      const errors = validateDocument(source);
      expect(errors.map((e) => e.message)).toEqual([]);
    });
  }

  it('catches an invalid document (the check can fail)', () => {
    expect(validateDocument('{ customers(first: 1) { nodes { id emailAddresss } } }').length).toBeGreaterThan(0);
  });
});
