import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// STYLE.md's layering, checked from the import statements themselves (no eslint-plugin-import:
// a regex over relative specifiers is enough for a codebase that only imports with them).
// A folder may import from the layers below it, never above, never a sibling on its own layer:
//   domain <- config <- storage, mail <- services <- http <- serve <- cli, main
// Unit tests under src/ (`*.test.ts`) are not shipped and may reach across (a domain test run
// against a real store), so only production files are checked.

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Each top-level entry of src/ and its layer; a higher layer may import a lower one. */
const LAYERS: Record<string, number> = {
  domain: 0,
  // The published resource-server helper stands alone: nothing of Gatehouse's own in it.
  'resource-server': 0,
  'package-root.ts': 0,
  'event-loop-load.ts': 0,
  // Sums every worker's metrics over node:cluster's channel; knows nothing of Gatehouse.
  'cluster-metrics.ts': 0,
  config: 1,
  storage: 2,
  // Binds the port before the app is built, so a PORT=0 server advertises the real one.
  'reserve-port.ts': 2,
  mail: 2,
  'services.ts': 3,
  http: 4,
  // serve-cluster.ts forks workers that each run serve.ts: one unit.
  'serve.ts': 5,
  'serve-cluster.ts': 5,
  cli: 6,
  'main.ts': 6,
};
/** Entries on one layer that are one unit and may import each other. */
const SAME_UNIT = [['serve.ts', 'serve-cluster.ts']];

export interface Import {
  /** Path of the importing file relative to src/, with forward slashes. */
  from: string;
  /** Path of the imported file relative to src/. */
  to: string;
  /** `import type` / `export type` (or every name marked `type`): gone at run time. */
  typeOnly: boolean;
}

const SPECIFIER =
  /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm;

/** The relative imports of one file's source text. */
export function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const spec = match[4] ?? match[5] ?? match[6];
    if (!spec) continue;
    const clause = match[3] ?? '';
    const names = clause.startsWith('{') ? clause.slice(1, -1).split(',') : [];
    const typeOnly =
      match[2] !== undefined ||
      (names.length > 0 &&
        names.filter((name) => name.trim() !== '').every((name) => /^\s*type\s/.test(name)));
    const to = normalize(join(dirname(file), spec))
      .split('\\')
      .join('/');
    found.push({ from: file, to, typeOnly });
  }
  return found;
}

const top = (path: string) => path.split('/')[0]!;

/** Every import that breaks the layering, as "from -> to (why)". */
export function layeringViolations(imports: readonly Import[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of imports) {
    const a = top(from);
    const b = top(to);
    if (a === b || SAME_UNIT.some((unit) => unit.includes(a) && unit.includes(b))) continue;
    const la = LAYERS[a];
    const lb = LAYERS[b];
    if (la === undefined || lb === undefined) {
      problems.push(`${from} -> ${to} (src/${la === undefined ? a : b} has no layer in LAYERS)`);
    } else if (lb >= la) {
      problems.push(`${from} -> ${to} (${a} is layer ${la}, ${b} is layer ${lb})`);
    }
  }
  return problems;
}

/** The cycles of a directed graph, as its strongly connected components of two or more nodes. */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  // Tarjan's algorithm; the graph is a few dozen folders, recursion is fine.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found
    .map((c) => c.join(' <-> '))
    .sort()
    .map((c) => c.split(' <-> '));
}

/** The run-time (value) imports between domain/ subfolders (a top-level file is its own node). */
export function domainFolderGraph(imports: readonly Import[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const { from, to, typeOnly } of imports) {
    if (typeOnly || top(from) !== 'domain' || top(to) !== 'domain') continue;
    const a = from.split('/')[1]!;
    const b = to.split('/')[1]!;
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
  }
  return edges;
}

/**
 * Cycles between domain/ folders: none. The address parsing every folder needs lives in
 * domain/email-address.ts, and completing the MFA step (which issues a session's tokens) lives
 * in sessions/ beside the password grant that opens it. A new cycle fails the test.
 */
const KNOWN_DOMAIN_CYCLES: string[][] = [];

function productionImports(): Import[] {
  const files = (readdirSync(SRC, { recursive: true }) as string[])
    .map((path) => path.split('\\').join('/'))
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.test.ts'));
  return files.flatMap((file) => importsOf(file, readFileSync(join(SRC, file), 'utf8')));
}

describe('architecture: folder layering and domain cycles', () => {
  const imports = productionImports();

  it('finds the imports it checks (the regex has not silently stopped matching)', () => {
    assert.ok(imports.length > 300, `only ${imports.length} imports found`);
    assert.ok(imports.some((i) => i.from === 'services.ts' && i.to.startsWith('storage/')));
    // Every src/ entry has a layer.
    const entries = new Set(imports.flatMap((i) => [top(i.from), top(i.to)]));
    for (const entry of entries) assert.ok(entry in LAYERS, `src/${entry} has no layer`);
    assert.equal(relative(SRC, join(SRC, 'domain')), 'domain');
  });

  it('no folder imports a folder on its own layer or above', () => {
    assert.deepEqual(layeringViolations(imports), []);
  });

  it('domain/ folders form no cycle beyond the known ones', () => {
    assert.deepEqual(cycles(domainFolderGraph(imports)), KNOWN_DOMAIN_CYCLES);
  });

  it('flags an import up the layers, one between siblings, and a folder with no layer', () => {
    const bad = [
      ...importsOf('domain/accounts/user.ts', "import { x } from '../../http/errors.ts';"),
      ...importsOf('config/config.ts', "export { y } from '../services.ts';"),
      ...importsOf('storage/open.ts', "const m = await import('../mail/mail-sender.ts');"),
      ...importsOf('http/routes/users.ts', "import '../../cli/main.ts';"),
      ...importsOf('newthing/a.ts', "import type { Z } from '../domain/errors.ts';"),
      // Allowed: downwards, within a folder, within the serve unit.
      ...importsOf('http/errors.ts', "import { GatehouseError } from '../domain/errors.ts';"),
      ...importsOf('http/a.ts', "import { b } from './b.ts';"),
      ...importsOf('serve-cluster.ts', "import { serve } from './serve.ts';"),
    ];
    assert.deepEqual(layeringViolations(bad), [
      'domain/accounts/user.ts -> http/errors.ts (domain is layer 0, http is layer 4)',
      'config/config.ts -> services.ts (config is layer 1, services.ts is layer 3)',
      'storage/open.ts -> mail/mail-sender.ts (storage is layer 2, mail is layer 2)',
      'http/routes/users.ts -> cli/main.ts (http is layer 4, cli is layer 6)',
      'newthing/a.ts -> domain/errors.ts (src/newthing has no layer in LAYERS)',
    ]);
  });

  it('flags a new value cycle between domain folders, not a type-only one', () => {
    const graph = domainFolderGraph([
      ...importsOf('domain/tokens/a.ts', "import { b } from '../clients/b.ts';"),
      ...importsOf('domain/clients/b.ts', "import { c } from '../throttle/c.ts';"),
      ...importsOf('domain/throttle/c.ts', "import { a } from '../tokens/a.ts';"),
      ...importsOf('domain/authz/d.ts', "import type { E } from '../audit/e.ts';"),
      ...importsOf('domain/audit/e.ts', "import { type D, type F } from '../authz/d.ts';"),
    ]);
    assert.deepEqual(cycles(graph), [['clients', 'throttle', 'tokens']]);
  });
});
