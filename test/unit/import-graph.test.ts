// The layout's rules, checked over every TypeScript import in extension/ and webview/: no cycles, and each layer imports only what it may.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports of every file (type-only ones too: a type cycle is still a tangle to read), as repo-relative paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles(path.join(root, 'extension')), ...sourceFiles(path.join(root, 'webview'))]) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) {
        targets.push(fileName);
        continue;
      }
      const base = path.resolve(path.dirname(file), fileName);
      const hit = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
        (candidate) => existsSync(candidate) && statSync(candidate).isFile(),
      );
      targets.push(path.relative(root, hit ?? base));
    }
    graph.set(path.relative(root, file), targets);
  }
  return graph;
}

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const graph = importGraph();

test('the import graph of extension/ and webview/ has no cycle', () => {
  assert.ok(graph.size > 50, `only ${graph.size} files found: the walk is broken`);
  assert.deepEqual(cycles(graph), []);
});

test('the cycle finder finds a cycle (the check above can fail)', () => {
  const tangled = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  assert.deepEqual(cycles(tangled), [['a.ts', 'b.ts', 'c.ts']]);
});

/** Which folders each layer may import from (besides npm packages, checked separately). */
const allowed: Array<{ layer: string; may: string[]; packagesForbidden: string[] }> = [
  { layer: 'extension/police/', may: ['extension/police/', 'schemas/'], packagesForbidden: ['vscode', 'three'] },
  {
    layer: 'extension/common/',
    may: ['extension/common/', 'extension/protocol/', 'extension/police/'],
    packagesForbidden: ['vscode', 'three'],
  },
  { layer: 'extension/protocol/', may: ['extension/protocol/', 'extension/police/'], packagesForbidden: ['vscode', 'three'] },
  {
    layer: 'extension/trainer/',
    may: ['extension/trainer/', 'extension/protocol/', 'extension/police/'],
    packagesForbidden: ['vscode', 'three'],
  },
  {
    layer: 'extension/cli/',
    may: ['extension/cli/', 'extension/trainer/', 'extension/protocol/', 'extension/police/'],
    packagesForbidden: ['vscode', 'three'],
  },
  {
    layer: 'extension/host/',
    may: ['extension/host/', 'extension/common/', 'extension/trainer/', 'extension/protocol/', 'extension/police/', 'schemas/'],
    packagesForbidden: ['three'],
  },
  { layer: 'webview/', may: ['webview/', 'extension/common/', 'extension/protocol/', 'extension/police/'], packagesForbidden: ['vscode'] },
];

test('each layer imports only the layers below it: the host no webview file, the engine no host, no vscode outside the host', () => {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    const rule = allowed.find((r) => file.startsWith(r.layer));
    assert.ok(rule, `${file} is in no layer of the layout`);
    for (const target of targets) {
      const relative = target.includes('/') && !target.startsWith('@') && existsSync(path.join(root, target));
      if (relative ? !rule.may.some((prefix) => target.startsWith(prefix)) : rule.packagesForbidden.includes(target))
        violations.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the schema names exactly the activations spec/activations.ts defines for specs', async () => {
  const { SPEC_ACTIVATIONS } = await import('../../extension/police/spec/activations');
  const schema = JSON.parse(readFileSync(path.join(root, 'schemas/police.schema.json'), 'utf8'));
  assert.deepEqual([...schema.definitions.layer.properties.activation.enum].sort(), [...SPEC_ACTIVATIONS].sort());
});
