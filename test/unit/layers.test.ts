// The shape of src/, checked: imports go one way (entry points -> the action and CLI shells -> shell -> finish -> report/service
// -> the domain folders -> the pure identity rules -> cluster -> settings -> net and the small
// shared modules) and never in a cycle, the rules in src/identity/ do no I/O and read no clock,
// only src/cluster talks to @kubernetes/client-node, no file is over 300 lines and no class has
// more than 12 fields. CONTRIBUTING.md's layout section draws the same layers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '../../src');

/** Top to bottom; a file may import from its own folder or from a lower layer only. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['index.ts', 'cli-main.ts'],
  ['action.ts', 'cli'],
  ['shell'],
  ['finish'],
  ['report', 'service'],
  ['approver', 'operators', 'registry', 'completion'],
  ['identity'],
  ['cluster'],
  ['settings'],
  ['net', 'log.ts', 'escape.ts', 'errors.ts', 'version.ts'],
];

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const unitOf = (path: string): string => relative(SRC, path).split('/')[0]!;
const layerOf = (unit: string): number => {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  assert.ok(layer >= 0, `src/${unit} is in no layer of test/unit/layers.test.ts: place it`);
  return layer;
};
const sources = files(SRC).map((path) => ({ path, name: relative(SRC, path), text: readFileSync(path, 'utf8') }));

/** Every relative module a text names: `from '…'` (imports, type imports, re-exports), `import '…'` (side effects) and `import('…')`. */
const relativeSpecs = (text: string): string[] => [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);

test('layers: every import goes to the same folder or a lower layer', () => {
  const wrong: string[] = [];
  for (const file of sources) {
    const from = unitOf(file.path);
    for (const spec of relativeSpecs(file.text)) {
      const to = unitOf(normalize(join(dirname(file.path), spec)));
      if (to !== from && layerOf(to) <= layerOf(from)) wrong.push(`src/${file.name} imports ${spec} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

/** The src/ files a file imports (relative imports, side-effect and dynamic ones, and re-exports, types included: a cycle of types is still a knot for the reader). */
const importsOf = (file: { path: string; text: string }): string[] => relativeSpecs(file.text).map((spec) => normalize(join(dirname(file.path), spec)));

/** Import cycles among `nodes`, each as the path that closes it (depth-first, every edge once). */
function cyclesOf(nodes: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of nodes.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of nodes.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

test('layers: no import cycle under src/, not even within a folder', () => {
  const graph = new Map(sources.map((f) => [f.path, importsOf(f)]));
  assert.deepEqual(cyclesOf(graph).map((cycle) => cycle.map((path) => relative(SRC, path)).join(' -> ')), []);
});

test('layers: the cycle check sees a cycle (the check above can fail)', () => {
  const graph = new Map([['a', ['b']], ['b', ['c', 'd']], ['c', ['a']], ['d', []]]);
  assert.deepEqual(cyclesOf(graph), [['a', 'b', 'c', 'a']]);
  const text = ["import type { A } from './a.ts';", "export * from '../b/b.ts';", "import './c.ts';", "const d = await import('./d.ts');", "import { e } from 'node:fs';"].join('\n');
  assert.deepEqual(relativeSpecs(text), ['./a.ts', '../b/b.ts', './c.ts', './d.ts'], 'every relative import is an edge');
});

/** The pure rules (x509 reading, the policy, address ownership): what a security reviewer reads. */
const RULES = 'identity';
/** Modules of Node's the rules may use: a signature check computes, it does no I/O. */
const RULES_BUILTINS = new Set(['node:crypto']);

/**
 * What in a rules file could do I/O, read a clock or draw chance: a value import from outside its
 * folder and src/net/ (a side-effect import counts as one), a module, a dynamic import, a timer,
 * the clock, randomness, the process.
 */
function impurities(file: { path: string; text: string }): string[] {
  const found: string[] = [];
  for (const match of file.text.matchAll(/^(?:(?:import|export)( type)?\b[^;]*?\bfrom |import )'([^']+)'/gm)) {
    const [, typeOnly, spec] = match as unknown as [string, string | undefined, string];
    if (!spec.startsWith('.')) {
      if (!RULES_BUILTINS.has(spec)) found.push(`imports ${spec}`);
    } else if (![RULES, 'net'].includes(unitOf(normalize(join(dirname(file.path), spec)))) && !typeOnly) found.push(`imports values from ${spec}`);
  }
  for (const match of file.text.matchAll(/\b(?:Date\.now|new Date|Date\(|performance\.|setTimeout|setInterval|setImmediate|queueMicrotask|process\.|fetch\(|require\(|import\s*\(|Math\.random|random(?:Bytes|Int|UUID)|getRandomValues|globalThis)/g)) found.push(`uses ${match[0]}`);
  return found;
}

test('layers: src/identity/ imports only src/net/ and types, and reads no clock', () => {
  const rules = sources.filter((f) => unitOf(f.path) === RULES);
  assert.ok(rules.length >= 5, 'the rules are in src/identity/');
  assert.deepEqual(rules.flatMap((f) => impurities(f).map((what) => `src/${f.name} ${what}`)), []);
});

test('layers: the purity check sees I/O, values from other layers and clocks (the check above can fail)', () => {
  const text = [
    "import type { Csr } from '../cluster/objects.ts';",
    "import { canonicalIp } from '../net/address.ts';",
    "import { Der } from './der.ts';",
    "import { statusOf } from '../cluster/errors.ts';",
    "import {\n  readFileSync,\n} from 'node:fs';",
    "import { verify } from 'node:crypto';",
    "import '../cluster/transport.ts';",
    "import 'node:net';",
    'const at = Date.now();',
    'const today = Date();',
    "const dns = await import('node:dns');",
    'const coin = Math.random();',
    "const { randomUUID } = await import('node:crypto'); randomUUID();",
  ].join('\n');
  assert.deepEqual(impurities({ path: join(SRC, RULES, 'sample.ts'), text }), [
    'imports values from ../cluster/errors.ts',
    'imports node:fs',
    'imports values from ../cluster/transport.ts',
    'imports node:net',
    'uses Date.now',
    'uses Date(',
    'uses import(',
    'uses Math.random',
    'uses randomUUID',
    'uses import(',
    'uses randomUUID',
  ]);
});

test('layers: only src/cluster imports @kubernetes/client-node', () => {
  const outside = sources.filter((f) => /from '@kubernetes\/client-node'/.test(f.text) && unitOf(f.path) !== 'cluster').map((f) => f.name);
  assert.deepEqual(outside, []);
});

test('layers: no file under src/ over 300 lines, no class with more than 12 fields', () => {
  const long = sources.filter((f) => f.text.split('\n').length - 1 > 300).map((f) => `${f.name}: ${f.text.split('\n').length - 1} lines`);
  assert.deepEqual(long, []);
  const crowded: string[] = [];
  for (const file of sources) {
    for (const match of file.text.matchAll(/^(?:export )?(?:abstract )?class (\w+)[^{]*\{\n([\s\S]*?)^\}/gm)) {
      const fields = match[2]!.split('\n').filter((line) => /^ {2}(?:(?:private|protected|public|readonly|static|override)\s+)*#?[A-Za-z_$][\w$]*[?!]?\s*[:=]/.test(line));
      if (fields.length > 12) crowded.push(`${file.name}: class ${match[1]} has ${fields.length} fields`);
    }
  }
  assert.deepEqual(crowded, []);
});

test('layers: the class field count sees fields (the check above can fail)', () => {
  const sample = 'class Sample {\n  private readonly a = 1;\n  b: number;\n  readonly c?: string;\n  method(): void {}\n  get d(): number { return 1; }\n}\n';
  const body = /class \w+[^{]*\{\n([\s\S]*?)^\}/m.exec(sample)![1]!;
  const fields = body.split('\n').filter((line) => /^ {2}(?:(?:private|protected|public|readonly|static|override)\s+)*#?[A-Za-z_$][\w$]*[?!]?\s*[:=]/.test(line));
  assert.equal(fields.length, 3);
});

test('layers: CONTRIBUTING.md draws every folder of src/, in the order of the layers', () => {
  const readme = readFileSync(join(SRC, '../CONTRIBUTING.md'), 'utf8');
  const drawing = /### Layout[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(drawing, 'CONTRIBUTING.md has a "### Layout" section with a text drawing');
  const folders = [...new Set(sources.map((f) => unitOf(f.path)))].filter((unit) => !unit.endsWith('.ts'));
  const positions = folders.map((unit) => ({ unit, at: drawing.indexOf(`src/${unit}/`) }));
  assert.deepEqual(positions.filter((p) => p.at < 0).map((p) => p.unit), [], 'every folder is drawn');
  const drawnOrder = [...positions].sort((a, b) => a.at - b.at).map((p) => layerOf(p.unit));
  assert.deepEqual(drawnOrder, [...drawnOrder].sort((a, b) => a - b), 'drawn top to bottom in layer order');
});
