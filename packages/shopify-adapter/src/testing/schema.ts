/**
 * The Shopify Admin API 2025-10 schema (SDL from ../shared/data/shopify/), built once per process with
 * graphql-js. Both the sandbox (to validate and execute) and the adapter's document test use it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate, type GraphQLError, type GraphQLSchema } from 'graphql';

/** Where the SDL lives: `TACTFUL_SHOPIFY_SCHEMA`, else `../shared/data/shopify/` beside the repository. */
export function adminSchemaPath(): string {
  const fromEnv = process.env.TACTFUL_SHOPIFY_SCHEMA;
  if (fromEnv) return fromEnv;
  // src/testing/ and dist/testing/ are both four levels below the repository's parent folder.
  return fileURLToPath(new URL('../../../../../shared/data/shopify/admin_2025-10.graphql', import.meta.url));
}

const cache = new Map<string, GraphQLSchema>();

export function loadAdminSchema(path = adminSchemaPath()): GraphQLSchema {
  let schema = cache.get(path);
  if (!schema) {
    schema = buildSchema(readFileSync(path, 'utf8'), { assumeValidSDL: true });
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
