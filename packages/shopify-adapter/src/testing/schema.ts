/**
 * The Shopify Admin API 2025-10 schema (SDL shipped in this package's data/), built once per process with
 * graphql-js. Both the sandbox (to validate and execute) and the adapter's document test use it.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate, type GraphQLError, type GraphQLSchema } from 'graphql';
import { shopifyDataPath } from './data.js';

/** Where the SDL lives: `TACTFUL_SHOPIFY_SCHEMA` (another schema version), else the copy shipped in `data/`. */
export function adminSchemaPath(): string {
  return process.env.TACTFUL_SHOPIFY_SCHEMA || shopifyDataPath('admin_2025-10.graphql');
}

const cache = new Map<string, GraphQLSchema>();

export function loadAdminSchema(path = adminSchemaPath()): GraphQLSchema {
  let schema = cache.get(path);
  if (!schema) {
    // Without source locations: with them every node keeps its tokens, a linked list of the whole 3 MB SDL
    // (~100 000 tokens) that lives as long as the schema, and nothing here reports a position in the schema.
    schema = buildSchema(readFileSync(path, 'utf8'), { assumeValidSDL: true, noLocation: true });
    cache.set(path, schema);
  }
  return schema;
}

/** Parses and validates a document; returns the errors graphql-js finds (empty when valid). */
export function validateDocument(source: string, schema = loadAdminSchema()): readonly GraphQLError[] {
  let document;
  try {
    document = parse(source);
  } catch (error) {
    return [error as GraphQLError];
  }
  return validate(schema, document);
}
