// The docs (README, CONTRIBUTING, SECURITY, docs/) and examples/ against the code: every YAML
// example parses, uses only inputs and outputs that action.yml declares and only flags that
// `--help` lists, the examples/ files are shown verbatim in a page, every relative link leads to a
// file and heading that exist, and the troubleshooting page covers every refusal reason and
// every failure message. Each check also asserts it found something, so an empty match fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { REASONS } from '../../src/identity/policy.ts';
import { fencedBlocks } from './markdown.ts';

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
/** The documentation: the README (the front page), the pages beside it and under docs/. */
const DOC_FILES = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const docs = DOC_FILES.map((file) => ({ file, text: read(file) }));
const readmeBlocks = docs.flatMap(({ file, text }) => fencedBlocks(text).map((block) => ({ ...block, file })));
const exampleFiles = readdirSync(join(root, 'examples')).sort();
const isYamlFile = (name: string) => /\.ya?ml$/.test(name);

interface YamlSource {
  where: string;
  text: string;
  docs: unknown[];
}

function parseYamlSource(where: string, text: string): YamlSource {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const errors = list.flatMap((d) => d.errors.map((e) => e.message));
  assert.deepEqual(errors, [], `${where} does not parse as YAML`);
  return { where, text, docs: list.map((d) => d.toJS()) };
}

const yamlSources = (): YamlSource[] => [
  ...exampleFiles.filter(isYamlFile).map((name) => parseYamlSource(`examples/${name}`, read(`examples/${name}`))),
  ...readmeBlocks.filter((b) => b.lang === 'yaml').map((b) => parseYamlSource(`${b.file} line ${b.line}`, b.text)),
];

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const item of value) walk(item, visit);
  else if (value !== null && typeof value === 'object') {
    visit(value as Record<string, unknown>);
    for (const child of Object.values(value)) walk(child, visit);
  }
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const action = parseYaml(read('action.yml')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
const INPUT_NAMES = new Set(Object.keys(action.inputs));
const OUTPUT_NAMES = new Set(Object.keys(action.outputs));
const usesThisAction = (uses: unknown) => typeof uses === 'string' && /(^|\/)openshift-finish-install@/.test(uses);

test('every YAML example parses: examples/, the README yaml blocks, the CI workflow', () => {
  const sources = yamlSources();
  assert.ok(exampleFiles.filter(isYamlFile).length >= 4, `expected at least 4 YAML files in examples/, found ${exampleFiles.join(', ')}`);
  assert.ok(readmeBlocks.filter((b) => b.lang === 'yaml').length >= 8, 'expected the docs to show at least 8 yaml blocks');
  assert.ok(sources.every((s) => s.docs.length > 0 && s.docs.every((d) => d !== null && typeof d === 'object')), 'every YAML example is a mapping or a list');
  for (const workflow of readdirSync(join(root, '.github/workflows'))) parseYamlSource(workflow, read(`.github/workflows/${workflow}`));
});

test('every file in examples/ is shown verbatim in a code block of the docs', () => {
  assert.ok(exampleFiles.length >= 5, 'examples/ holds the pipelines, the Tekton Task and the systemd unit');
  const shown = new Set(readmeBlocks.map((b) => b.text));
  for (const name of exampleFiles) {
    assert.ok(shown.has(read(`examples/${name}`)), `examples/${name} differs from every code block of the docs: copy it into the page that explains it, unchanged`);
  }
});

/** Problems in the uses of this action in one YAML source; also counts what it checked. */
function actionReferenceProblems(source: { where: string; docs: unknown[] }, counts = { uses: 0, withKeys: 0, stepRefs: 0, needsRefs: 0 }): string[] {
  const problems: string[] = [];
  for (const doc of source.docs) {
    const ids = new Set<string>();
    walk(doc, (node) => {
      if (!usesThisAction(node.uses)) return;
      counts.uses++;
      if (typeof node.id === 'string') ids.add(node.id);
      const inputs = node.with ?? {};
      for (const key of Object.keys(inputs as object)) {
        counts.withKeys++;
        if (!INPUT_NAMES.has(key)) problems.push(`${source.where}: with: ${key} is not an input of action.yml`);
      }
    });
    const text = strings(doc).join('\n');
    for (const [, id, output] of text.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      if (!ids.has(id!)) continue;
      counts.stepRefs++;
      if (!OUTPUT_NAMES.has(output!)) problems.push(`${source.where}: steps.${id}.outputs.${output} is not an output of action.yml`);
    }
    const jobs = ((doc as { jobs?: Record<string, { outputs?: Record<string, string>; steps?: unknown[] }> }).jobs ?? {});
    for (const [, job, output] of text.matchAll(/\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const upstream = jobs[job!];
      if (!upstream) {
        problems.push(`${source.where}: needs.${job} names no job of this workflow`);
        continue;
      }
      const stepIds = new Set<string>();
      walk(upstream.steps ?? [], (node) => {
        if (usesThisAction(node.uses) && typeof node.id === 'string') stepIds.add(node.id);
      });
      if (stepIds.size === 0) continue;
      counts.needsRefs++;
      const expression = upstream.outputs?.[output!];
      if (expression === undefined) {
        problems.push(`${source.where}: needs.${job}.outputs.${output}: job ${job} has no output ${output}`);
        continue;
      }
      const mapped = [...expression.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)].filter((m) => stepIds.has(m[1]!));
      if (mapped.length === 0) problems.push(`${source.where}: job output ${job}.${output} does not come from this action's step`);
      for (const m of mapped) {
        if (!OUTPUT_NAMES.has(m[2]!)) problems.push(`${source.where}: job output ${job}.${output} maps to ${m[2]}, not an output of action.yml`);
      }
    }
  }
  return problems;
}

test('the examples use only inputs and outputs that action.yml declares', () => {
  const counts = { uses: 0, withKeys: 0, stepRefs: 0, needsRefs: 0 };
  const problems = yamlSources().flatMap((source) => actionReferenceProblems(source, counts));
  assert.deepEqual(problems, []);
  assert.ok(counts.uses >= 6, `expected at least 6 steps using the action, found ${counts.uses}`);
  assert.ok(counts.withKeys >= 20, `expected at least 20 with: keys, found ${counts.withKeys}`);
  assert.ok(counts.stepRefs >= 5, `expected at least 5 steps.<id>.outputs references, found ${counts.stepRefs}`);
  assert.ok(counts.needsRefs >= 3, `expected at least 3 needs.<job>.outputs references, found ${counts.needsRefs}`);
});

test('the reference check catches an unknown input, output and job output', () => {
  const bad = parseYamlSource(
    'bad',
    [
      'jobs:',
      '  a:',
      '    outputs: { r: "${{ steps.f.outputs.no-such-output }}" }',
      '    steps:',
      '      - { id: f, uses: OWNER/openshift-finish-install@v1, with: { no-such-input: x } }',
      '  b:',
      '    needs: a',
      '    steps:',
      '      - run: echo "${{ needs.a.outputs.missing }}"',
    ].join('\n'),
  );
  const problems = actionReferenceProblems(bad).join('\n');
  assert.match(problems, /no-such-input is not an input/);
  assert.match(problems, /steps\.f\.outputs\.no-such-output is not an output/);
  assert.match(problems, /job a has no output missing/);
});

/** The --flags given to openshift-finish-install in a text (shell lines, a unit file, a YAML string). */
function cliFlags(text: string): { commands: number; flags: string[] } {
  let commands = 0;
  const flags: string[] = [];
  for (const line of text.replace(/\\\n\s*/g, ' ').split('\n')) {
    // The command word starts a command (a line, after ; & | or (, after npx or ExecStart=, or
    // as the end of a path); elsewhere the name is an argument (the service account's, in `oc`
    // commands), a `uses:` reference or an npm spec (followed by @ or #).
    const command = /(?:^\s*|[;&|(]\s*|\bnpx\s+|ExecStart=|\/)openshift-finish-install(?=\s|$)/.exec(line);
    if (!command) continue;
    commands++;
    const rest = line.slice(command.index + command[0].length).split(/\s#|\|\||&&|[|;]/)[0]!;
    for (const m of rest.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)) flags.push(m[1]!);
  }
  return { commands, flags };
}

test('every --flag given to the CLI in the README and examples/ is an option of --help', () => {
  const help = spawnSync(process.execPath, [join(root, 'dist/cli.js'), '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const known = new Set(help.stdout.split('\n').filter((l) => /^ {2}--/.test(l)).flatMap((l) => l.match(/--[a-z][a-z0-9-]*/g) ?? []));
  assert.ok(known.has('--watch') && known.has('--no-wait-for-operators'), 'parsed the options of --help');

  const texts: Array<[string, string]> = [];
  for (const name of exampleFiles) {
    const text = read(`examples/${name}`);
    texts.push([`examples/${name}`, isYamlFile(name) ? strings(parseYamlSource(name, text).docs).join('\n') : text]);
  }
  for (const block of readmeBlocks) {
    texts.push([`${block.file} line ${block.line}`, block.lang === 'yaml' ? strings(parseYamlSource(block.file, block.text).docs).join('\n') : block.text]);
  }
  for (const { file, text } of docs) {
    const prose = text.replace(/^```[\s\S]*?^```$/gm, '');
    for (const [, code] of prose.matchAll(/`([^`\n]+)`/g)) texts.push([`${file} inline code`, code!]);
  }

  let commands = 0;
  const used = new Set<string>();
  const unknown: string[] = [];
  for (const [where, text] of texts) {
    const found = cliFlags(text);
    commands += found.commands;
    for (const flag of found.flags) {
      used.add(flag);
      if (!known.has(flag)) unknown.push(`${where}: ${flag}`);
    }
  }
  assert.deepEqual(unknown, [], 'flags that openshift-finish-install --help does not list');
  assert.ok(commands >= 10, `expected at least 10 openshift-finish-install commands, found ${commands}`);
  for (const flag of ['--watch', '--nodes-file', '--kubeconfig', '--dry-run', '--output', '--registry-pvc-storage-class', '--no-wait-for-operators']) {
    assert.ok(used.has(flag), `no example uses ${flag}`);
  }
  // the extraction itself: a bad flag is found, other programs' flags and npm specs are not
  assert.deepEqual(cliFlags('x | openshift-finish-install --dry-run \\\n  --bogus-flag # --comment').flags, ['--dry-run', '--bogus-flag']);
  assert.equal(cliFlags('npm install -g --no-fund github:OWNER/openshift-finish-install#v1 && oc get nodes --watch').commands, 0);
  assert.equal(cliFlags('oc create token openshift-finish-install -n openshift-finish-install --duration=2h').commands, 0);
  assert.deepEqual(cliFlags('ExecStart=/usr/local/bin/openshift-finish-install --watch').flags, ['--watch']);
});

/** The troubleshooting page (docs/troubleshooting.md). */
function troubleshooting(): string {
  return read('docs/troubleshooting.md');
}

test('the troubleshooting table has a row for every refused-csrs reason code', () => {
  const rows = troubleshooting().split('\n').filter((l) => l.startsWith('|'));
  const codes = Object.keys(REASONS);
  assert.ok(codes.length >= 15, 'read the reason codes of src/identity/policy.ts');
  const missing = codes.filter((code) => !rows.some((row) => row.includes(`\`${code}\``)));
  assert.deepEqual(missing, [], 'reason codes without a row in the docs/troubleshooting.md table');
});

const srcText = (dir: string): string =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');

/** Literal parts of failure messages: each must be in src/ (so it is real) and in the troubleshooting table. */
const FAILURES = {
  input: ["Input '", 'Accepted: '],
  kubeconfig: [
    'is empty and no kubeconfig file was found',
    'is neither kubeconfig YAML nor base64',
    'is base64 but does not decode to a kubeconfig',
    'is not a usable kubeconfig',
    "' is not in ",
    'has no current-context',
    'names no cluster with a server',
    'and there is no folder to resolve it against',
    ': cannot read ',
    'sets both insecure-skip-tls-verify and a certificate authority',
    'with interactiveMode: Always, which needs a terminal',
    'without as',
    'does not exist',
  ],
  deadlines: ['Nodes not Ready with serving certificates after', 'ClusterOperators not stable for', 'Image registry not ready after registry-timeout', 'Install not complete within operators-timeout'],
  completion: [
    'needs the image registry, but this cluster was installed without the ImageRegistry capability',
    'the cluster has no config.openshift.io ClusterVersion kind: is this an OpenShift 4 cluster? Set wait-for-cluster-version: false to skip it.',
    'the cluster has no ClusterVersion or MachineConfigPool kind: is this an OpenShift 4 cluster?',
    'ClusterVersion version not found',
    'not found',
    'not observed yet',
  ],
  other: [
    'Missing permissions (see deploy/rbac.yaml), add: ',
    'cannot reach the API server at ',
    "check the kubeconfig's server address and the network",
    'check the proxy (HTTPS_PROXY, NO_PROXY or the kubeconfig proxy-url)',
    'refused the tunnel to ',
    'cannot connect to proxy ',
    'the imageregistry Config "cluster" did not appear before registry-timeout; is the image registry operator running?',
    'the cluster has no imageregistry.operator.openshift.io Config kind: the ImageRegistry capability is disabled; set registry-storage: keep',
    'Cancelled: the job was stopped before the install finished.',
    'the cluster has no config.openshift.io ClusterOperator kind: is this an OpenShift cluster? Set wait-for-operators: false to skip the operator wait.',
    "Grant the role in deploy/rbac.yaml to the action's identity.",
    'cannot read ',
    'exists but was not created by the registry operator',
    'does not exist; create it or set registry-pvc-size',
    'claim needs rolloutStrategy Recreate',
    'claim allows 1 replica',
    '; also: ',
    'not-readable.json',
  ],
};

test('the troubleshooting table covers every failure message', () => {
  const src = srcText('src');
  const section = troubleshooting();
  const fragments = Object.values(FAILURES).flat();
  assert.deepEqual(fragments.filter((f) => !src.includes(f)), [], 'fragments no longer in src/: update FAILURES and docs/troubleshooting.md');
  assert.deepEqual(fragments.filter((f) => !section.includes(f)), [], 'failure messages missing from docs/troubleshooting.md');
  for (const status of ['HTTP 401', 'HTTP 403']) assert.ok(section.includes(status), `README explains ${status}`);
  assert.ok(src.includes('HTTP ${status}'), 'API errors are reported as HTTP <status>');
  // A new kubeconfig or deadline failure needs a row too: these counts change with the code.
  const kubeconfigErrors = ['src/cluster/kubeconfig.ts', 'src/cluster/kubeconfig-checks.ts'].map(read).join('\n');
  assert.equal([...kubeconfigErrors.matchAll(/new InputError\(/g)].length, FAILURES.kubeconfig.length, 'kubeconfig errors in src/cluster/kubeconfig.ts and kubeconfig-checks.ts');
  assert.equal([...srcText('src/finish').matchAll(/new DeadlineError\(/g)].length, FAILURES.deadlines.length, 'deadline failures in src/finish/');
});

/** GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, spaces as '-'. */
export const headingAnchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');

/** The relative links of a Markdown text (outside code), with the anchors its headings make. */
function linksOf(text: string): { links: string[]; anchors: Set<string> } {
  const prose = text.replace(/^```[\s\S]*?^```[ \t]*$/gm, '');
  const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
  const anchors = new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));
  return { links, anchors };
}

function brokenLinks(files: ReadonlyArray<{ file: string; text: string }>, exists: (path: string) => boolean, textOf: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const { file, text } of files) {
    for (const link of linksOf(text).links) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      if (path !== '' && !exists(target)) broken.push(`${file}: ${link} (no ${target})`);
      else if (anchor !== undefined && target.endsWith('.md') && !linksOf((path === '' ? text : textOf(target)) ?? '').anchors.has(anchor)) broken.push(`${file}: ${link} (no heading #${anchor} in ${target})`);
    }
  }
  return broken;
}

test('every relative link in the docs leads to a file, and to a heading of it when it names one', () => {
  const onDisk = (path: string) => existsSync(join(root, path));
  const textOf = (path: string) => (path.endsWith('.md') && onDisk(path) ? read(path) : undefined);
  assert.deepEqual(brokenLinks(docs, onDisk, textOf), []);
  const count = docs.reduce((n, d) => n + linksOf(d.text).links.length, 0);
  assert.ok(count >= 30, `expected at least 30 relative links, found ${count}`);
  // the check itself: a missing file and a missing heading are found
  const sample = [{ file: 'docs/a.md', text: '# A\n\n[x](../README.md#no-such-heading) [y](missing.md) [z](#a) [w](../README.md#usage)' }];
  assert.deepEqual(brokenLinks(sample, onDisk, textOf), ['docs/a.md: ../README.md#no-such-heading (no heading #no-such-heading in README.md)', 'docs/a.md: missing.md (no docs/missing.md)']);
});
