import { describe, expect, it } from 'vitest';
import { loadAdminSchema, validateDocument } from './schema.js';

describe('the Admin API schema the sandbox loads', () => {
  it('keeps no source locations, so the SDL and its tokens are not held for the life of the process', () => {
    const schema = loadAdminSchema();
    const order = schema.getType('Order');
    expect(order?.astNode).toBeDefined();
    expect(order?.astNode?.loc).toBeUndefined();
    expect(schema.getQueryType()?.astNode?.loc).toBeUndefined();
  });

  it('still reports where in a query document a mistake is', () => {
    const [error] = validateDocument('query { shop { noSuchField } }');
    expect(error?.message).toContain('noSuchField');
    expect(error?.locations?.[0]).toEqual({ line: 1, column: 16 });
  });
});
