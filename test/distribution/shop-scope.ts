/**
 * Whether a SQL statement touches shop-scoped tables only through a `shop_id` filter, read from the real
 * PostgreSQL parser's syntax tree (libpg-query). On Citus with `shop_id` as the distribution column such a
 * statement is routed to one shard; one that is not scoped fans out to every shard (or, for a claim with
 * `FOR UPDATE`, fails there).
 *
 * A table reference is scoped when its `shop_id` is equal to a parameter or a constant, or to the `shop_id`
 * of another reference that is (a join, a correlated subquery, a CTE or derived table that is itself scoped),
 * through a condition every row must meet: the top-level AND of a WHERE clause or a JOIN's ON. An insert is
 * scoped when it names the `shop_id` column. `shop_id = ANY($1)` and `IN (…)` count as scoped (a statement
 * for a known set of shops), and are reported apart as multi-shop by `scope()`.
 */
import { loadModule, parseSync } from 'libpg-query';

type Node = any;

export interface StatementScope {
  /** Shop-scoped tables referenced without a shop_id filter, as `table (as alias)`. */
  unscoped: string[];
  /** Whether some reference is pinned to a set of shops (= ANY, IN) rather than one. */
  multiShop: boolean;
  /** The shop-scoped tables the statement touches. */
  tables: string[];
}

export async function loadParser(): Promise<void> {
  await loadModule();
}

interface Source {
  alias: string;
  /** The shop-scoped table, when it is one. */
  table?: string;
  /** A CTE or derived table whose own query is scoped: its shop_id is as good as a parameter. */
  derivedScoped?: boolean;
}

interface Scope {
  sources: Source[];
  /** Aliases of enclosing queries and whether each is scoped (for correlated subqueries). */
  outer: Map<string, boolean>;
}

export function scope(sql: string, shopTables: ReadonlySet<string>): StatementScope {
  const tree = parseSync(sql) as { stmts: Array<{ stmt: Node }> };
  const result: StatementScope = { unscoped: [], multiShop: false, tables: [] };
  for (const { stmt } of tree.stmts) checkStatement(stmt, new Map(), new Map(), shopTables, result);
  result.tables = [...new Set(result.tables)].sort();
  return result;
}

/** Checks one statement node; returns whether it (and all it contains) was scoped. */
function checkStatement(
  stmt: Node,
  outer: Map<string, boolean>,
  ctes: Map<string, boolean>,
  shopTables: ReadonlySet<string>,
  result: StatementScope,
): boolean {
  const before = result.unscoped.length;
  const kind = Object.keys(stmt)[0]!;
  const body = stmt[kind];
  if (!['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt'].includes(kind)) return true;
  const localCtes = new Map(ctes);
  for (const cte of body.withClause?.ctes ?? []) {
    const c = cte.CommonTableExpr;
    localCtes.set(c.ctename, checkStatement(c.ctequery, outer, localCtes, shopTables, result));
  }
  if (kind === 'SelectStmt' && body.op && body.op !== 'SETOP_NONE') {
    checkStatement({ SelectStmt: body.larg }, outer, localCtes, shopTables, result);
    checkStatement({ SelectStmt: body.rarg }, outer, localCtes, shopTables, result);
    return result.unscoped.length === before;
  }

  const sources: Source[] = [];
  const conjuncts: Node[] = [];
  const expressions: Node[] = [];
  const addFrom = (item: Node) => {
    if (item.RangeVar) {
      const name: string = item.RangeVar.relname;
      const alias: string = item.RangeVar.alias?.aliasname ?? name;
      if (localCtes.has(name)) sources.push({ alias, derivedScoped: localCtes.get(name) });
      else if (shopTables.has(name)) {
        sources.push({ alias, table: name });
        result.tables.push(name);
      } else sources.push({ alias });
    } else if (item.JoinExpr) {
      addFrom(item.JoinExpr.larg);
      addFrom(item.JoinExpr.rarg);
      if (item.JoinExpr.quals) for (const term of andTerms(item.JoinExpr.quals)) conjuncts.push(term);
    } else if (item.RangeSubselect) {
      const ok = checkStatement(item.RangeSubselect.subquery, outer, localCtes, shopTables, result);
      sources.push({ alias: item.RangeSubselect.alias?.aliasname ?? '?', derivedScoped: ok });
    } else if (item.RangeFunction) {
      sources.push({ alias: item.RangeFunction.alias?.aliasname ?? '?', derivedScoped: true });
      expressions.push(item.RangeFunction);
    }
  };

  if (kind === 'SelectStmt') {
    for (const item of body.fromClause ?? []) addFrom(item);
    if (body.whereClause) for (const term of andTerms(body.whereClause)) conjuncts.push(term);
    expressions.push(body.targetList, body.havingClause, body.valuesLists, body.sortClause, body.groupClause);
  } else if (kind === 'InsertStmt') {
    const table: string = body.relation.relname;
    if (shopTables.has(table)) {
      result.tables.push(table);
      const columns: string[] = (body.cols ?? []).map((c: Node) => c.ResTarget.name);
      if (!columns.includes('shop_id')) result.unscoped.push(`${table} (insert without shop_id)`);
    }
    if (body.selectStmt) checkStatement(body.selectStmt, outer, localCtes, shopTables, result);
    expressions.push(body.onConflictClause, body.returningList);
    for (const sub of subqueries(expressions)) checkStatement(sub, outer, localCtes, shopTables, result);
    return result.unscoped.length === before;
  } else {
    addFrom({ RangeVar: body.relation });
    for (const item of body.fromClause ?? body.usingClause ?? []) addFrom(item);
    if (body.whereClause) for (const term of andTerms(body.whereClause)) conjuncts.push(term);
    expressions.push(body.targetList, body.returningList);
  }

  const local: Scope = { sources, outer };
  const parent = new Map<string, string>(sources.map((s) => [s.alias, s.alias]));
  const find = (a: string): string => {
    while (parent.get(a) !== a) a = parent.get(a)!;
    return a;
  };
  const pinned = new Set<string>();
  for (const s of sources) if (s.derivedScoped) pinned.add(s.alias);
  for (const term of conjuncts) {
    const e = term.A_Expr;
    if (!e || opName(e) !== '=' || !['AEXPR_OP', 'AEXPR_OP_ANY', 'AEXPR_IN'].includes(e.kind)) continue;
    const left = shopColumn(e.lexpr, local, shopTables);
    const right = shopColumn(e.rexpr, local, shopTables);
    const many = e.kind !== 'AEXPR_OP';
    const pin = (side: Side, other: Node) => {
      if (side.kind === 'local' && isValue(other, localCtes, outer, shopTables, result)) {
        pinned.add(side.alias);
        if (many) result.multiShop = true;
      }
    };
    if (left && right) {
      if (left.kind === 'local' && right.kind === 'local') parent.set(find(left.alias), find(right.alias));
      else if (left.kind === 'local' && right.kind === 'outer' && right.scoped) pinned.add(left.alias);
      else if (right.kind === 'local' && left.kind === 'outer' && left.scoped) pinned.add(right.alias);
    } else if (left) pin(left, e.rexpr);
    else if (right) pin(right, e.lexpr);
  }
  const pinnedRoots = new Set([...pinned].map(find));
  const scopedAliases = new Map(outer);
  for (const s of sources) {
    const ok = pinnedRoots.has(find(s.alias));
    scopedAliases.set(s.alias, ok || !s.table);
    if (s.table && !ok) result.unscoped.push(`${s.table}${s.alias === s.table ? '' : ` (as ${s.alias})`}`);
  }
  for (const sub of subqueries([...expressions, ...conjuncts]))
    checkStatement(sub, scopedAliases, localCtes, shopTables, result);
  return result.unscoped.length === before;
}

type Side = { kind: 'local'; alias: string } | { kind: 'outer'; scoped: boolean };

/** `x.shop_id` (or a bare `shop_id`) of a source of this scope or an enclosing one. */
function shopColumn(node: Node, scope: Scope, shopTables: ReadonlySet<string>): Side | undefined {
  const ref = unwrap(node)?.ColumnRef;
  if (!ref) return undefined;
  const names: string[] = ref.fields.map((f: Node) => f.String?.sval ?? '*');
  if (names[names.length - 1] !== 'shop_id') return undefined;
  if (names.length === 1) {
    const candidates = scope.sources.filter((s) => s.table && shopTables.has(s.table));
    const only = candidates.length > 0 ? candidates : scope.sources;
    if (only.length > 0) return { kind: 'local', alias: only[0]!.alias };
    return undefined;
  }
  const alias = names[names.length - 2]!;
  if (scope.sources.some((s) => s.alias === alias)) return { kind: 'local', alias };
  if (scope.outer.has(alias)) return { kind: 'outer', scoped: scope.outer.get(alias)! };
  return undefined;
}

/** A parameter, a constant, an array or list of them, or a scalar subquery that is itself scoped. */
function isValue(
  node: Node,
  ctes: Map<string, boolean>,
  outer: Map<string, boolean>,
  shopTables: ReadonlySet<string>,
  result: StatementScope,
): boolean {
  if (Array.isArray(node)) return node.every((n) => isValue(n, ctes, outer, shopTables, result));
  const n = unwrap(node);
  if (!n) return false;
  if (n.ParamRef || n.A_Const) return true;
  if (n.List) return isValue(n.List.items, ctes, outer, shopTables, result);
  if (n.A_ArrayExpr) return isValue(n.A_ArrayExpr.elements ?? [], ctes, outer, shopTables, result);
  if (n.SubLink?.subLinkType === 'EXPR_SUBLINK') {
    const probe: StatementScope = { unscoped: [], multiShop: false, tables: [] };
    return checkStatement(n.SubLink.subselect, outer, ctes, shopTables, probe);
  }
  return false;
}

function unwrap(node: Node): Node {
  let n = node;
  while (n?.TypeCast) n = n.TypeCast.arg;
  return n;
}

function opName(e: Node): string {
  return e.name?.map((n: Node) => n.String?.sval).join('.') ?? '';
}

function andTerms(node: Node): Node[] {
  if (node?.BoolExpr?.boolop === 'AND_EXPR') return node.BoolExpr.args.flatMap(andTerms);
  return [node];
}

/** The queries of subquery expressions (EXISTS, IN, scalar) inside `nodes`, not descending into them. */
function subqueries(nodes: Node[]): Node[] {
  const found: Node[] = [];
  const walk = (n: Node) => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const item of n) walk(item);
      return;
    }
    if (n.SubLink) {
      found.push(n.SubLink.subselect);
      walk(n.SubLink.testexpr);
      return;
    }
    for (const value of Object.values(n)) walk(value);
  };
  walk(nodes);
  return found;
}
