/**
 * Shopify's calculated query cost, close enough to charge a bucket the way the Admin API does: a scalar
 * or enum costs 0, an object 1, a connection 2 plus `first`/`last` times the cost of one node, a mutation
 * 10 plus what it selects. (Shopify documents these rules under "Calculated query costs".)
 */
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface CostResult {
  cost: number;
  /** Connections selected without `first` or `last` (Shopify refuses them outside bulk operations). */
  unboundedConnections: string[];
}

export function requestedQueryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): CostResult {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const unbounded: string[] = [];

  const fieldsOf = (type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined => {
    if (isObjectType(type) || 'getFields' in type) {
      const fields = (type as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields();
      return fields[name];
    }
    return undefined;
  };

  const selectionCost = (parent: GraphQLNamedType, set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        const field = fieldsOf(parent, selection.name.value);
        if (!field) continue;
        const type = getNamedType(field.type);
        if (!isObjectType(type) && !isAbstractType(type)) continue;
        if (type.name.endsWith('Connection')) {
          const args: Record<string, unknown> = {};
          for (const arg of selection.arguments ?? []) {
            const definition = field.args.find((a) => a.name === arg.name.value);
            if (definition) args[arg.name.value] = valueFromAST(arg.value, definition.type, variables);
          }
          const size =
            typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : undefined;
          if (size === undefined) unbounded.push(selection.name.value);
          total += 2 + (size ?? 1) * selectionCost(type, selection.selectionSet);
        } else if (type.name === 'PageInfo') {
        } else if (type.name.endsWith('Edge')) {
          // edges { node } in a connection: the node is what costs.
          total += selectionCost(type, selection.selectionSet);
        } else {
          total += 1 + selectionCost(type, selection.selectionSet);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) ?? parent) : parent;
        total += selectionCost(on, selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment)
          total += selectionCost(schema.getType(fragment.typeCondition.name.value) ?? parent, fragment.selectionSet);
      }
    }
    return total;
  };

  const rootType = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!rootType) return { cost: 0, unboundedConnections: [] };
  let cost = selectionCost(rootType, operation.selectionSet);
  if (operation.operation === 'mutation') cost += 10 * operation.selectionSet.selections.length;
  return { cost, unboundedConnections: unbounded };
}

/**
 * The cost of what was actually returned: the same rules, with each connection's real length instead of
 * `first`. Shopify charges the requested cost up front and refunds the difference.
 */
export function actualQueryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  data: unknown,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

  const fieldOf = (type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined =>
    'getFields' in type
      ? (type as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()[name]
      : undefined;

  const walk = (parent: GraphQLNamedType, set: SelectionSetNode | undefined, value: unknown): number => {
    if (!set || value === null || typeof value !== 'object') return 0;
    const record = value as Record<string, unknown>;
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) ?? parent) : parent;
        total += walk(on, selection.selectionSet, value);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment)
          total += walk(schema.getType(fragment.typeCondition.name.value) ?? parent, fragment.selectionSet, value);
        continue;
      }
      if (selection.name.value.startsWith('__')) continue;
      const field = fieldOf(parent, selection.name.value);
      if (!field) continue;
      const type = getNamedType(field.type);
      if (!isObjectType(type) && !isAbstractType(type)) continue;
      const child = record[selection.alias?.value ?? selection.name.value];
      if (child === null || child === undefined) continue;
      if (type.name.endsWith('Connection')) total += 2 + walk(type, selection.selectionSet, child);
      else if (type.name === 'PageInfo') continue;
      else if (Array.isArray(child)) {
        const each = type.name.endsWith('Edge') ? 0 : 1;
        for (const item of child) total += each + walk(type, selection.selectionSet, item);
      } else total += 1 + walk(type, selection.selectionSet, child);
    }
    return total;
  };

  const rootType = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!rootType) return 0;
  let cost = walk(rootType, operation.selectionSet, data);
  if (operation.operation === 'mutation') cost += 10 * operation.selectionSet.selections.length;
  return cost;
}
