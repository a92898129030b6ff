import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { INPUTS, OUTPUTS, type InputName } from '../../src/settings/inputs.ts';
import { formatDuration, parseDuration } from '../../src/settings/duration.ts';
import { InputError, parseSettings } from '../../src/settings/settings.ts';
import { renderActionYaml } from '../../scripts/action-yaml.ts';

const settingsFrom = (inputs: Partial<Record<InputName, string>>) => parseSettings((name) => inputs[name] ?? '');

test('settings: defaults of CONTRACT.md', () => {
  const s = settingsFrom({});
  assert.equal(s.nodesTimeoutMs, 3_600_000);
  assert.equal(s.stablePeriodMs, 300_000);
  assert.equal(s.operatorsTimeoutMs, 3_600_000);
  assert.equal(s.pollIntervalMs, 10_000);
  assert.equal(s.registry.storage, 'keep');
  assert.equal(s.registry.accessMode, 'ReadWriteOnce');
  assert.equal(s.registry.rolloutStrategy, 'auto');
  assert.equal(s.registry.timeoutMs, 900_000);
  assert.equal(s.waitForOperators, true);
  assert.equal(s.waitForClusterVersion, true);
  assert.deepEqual(s.machineConfigPools, []);
  assert.equal(s.dryRun, false);
  assert.equal(s.summary, true);
  assert.deepEqual(s.nodes, []);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.registry) && Object.isFrozen(s.nodes));
});

test('settings: node lines with addresses, commas, comments and IPv6 spellings', () => {
  const s = settingsFrom({ nodes: '# workers\nworker-0 10.0.0.10  2001:DB8::A worker-0.Example.com\n\nworker-1, worker-2 10.0.0.12 # late\n' });
  assert.deepEqual(s.nodes.map((n) => n.name), ['worker-0', 'worker-1', 'worker-2']);
  assert.deepEqual(s.nodes[0]!.ips, ['10.0.0.10', '2001:db8:0:0:0:0:0:a']);
  assert.deepEqual(s.nodes[0]!.dnsNames, ['worker-0.example.com']);
  assert.deepEqual(s.nodes[2]!.ips, ['10.0.0.12']);
});

test('settings: ignore-operators and durations', () => {
  const s = settingsFrom({ 'ignore-operators': 'insights, monitoring\nconsole', 'stable-period': '0s', 'nodes-timeout': '1h30m' });
  assert.deepEqual(s.ignoreOperators, ['insights', 'monitoring', 'console']);
  assert.equal(s.stablePeriodMs, 0);
  assert.equal(s.nodesTimeoutMs, 5_400_000);
});

const bad: Array<[InputName, string, Partial<Record<InputName, string>>?]> = [
  ['nodes-timeout', '10'],
  ['nodes-timeout', '-5m'],
  ['nodes-timeout', '0s'],
  ['operators-timeout', '1d'],
  ['stable-period', 'five minutes'],
  ['registry-timeout', '0m'],
  ['poll-interval', '500ms'],
  ['wait-for-operators', 'yes'],
  ['dry-run', 'TRUE'],
  ['summary', '1'],
  ['registry-storage', 'nfs'],
  ['registry-storage', 'emptydir'],
  ['registry-pvc-access-mode', 'ReadOnlyMany', { 'registry-storage': 'pvc' }],
  ['registry-rollout-strategy', 'recreate', { 'registry-storage': 'pvc' }],
  ['registry-replicas', '0', { 'registry-storage': 'pvc' }],
  ['registry-replicas', 'two', { 'registry-storage': 'pvc' }],
  ['registry-pvc-size', '100GB', { 'registry-storage': 'pvc' }],
  ['registry-pvc-size', '0Gi', { 'registry-storage': 'pvc' }],
  ['registry-pvc-claim', 'My_Claim', { 'registry-storage': 'pvc' }],
  ['registry-pvc-claim', 'claim', { 'registry-storage': 'emptyDir' }],
  ['registry-pvc-size', '10Gi'],
  ['registry-replicas', '1'],
  ['registry-pvc-storage-class', 'Fast SSD', { 'registry-storage': 'pvc' }],
  ['nodes', 'Worker_0'],
  ['nodes', 'worker-0 not_an_address'],
  ['nodes', 'worker-0\nworker-0'],
  ['nodes', 'worker-0 10.0.0.1\nworker-1 10.0.0.1'],
  ['nodes', 'worker-0 300.1.1.1'],
  ['ignore-operators', 'Image Registry'],
  ['context', 'my context'],
];

for (const [input, value, others] of bad) {
  test(`settings: ${input}=${JSON.stringify(value)} is refused, naming the input`, () => {
    assert.throws(
      () => settingsFrom({ ...others, [input]: value }),
      (error: unknown) => error instanceof InputError && error.input === input && error.message.includes(`'${input}'`) && error.message.includes('Accepted:'),
    );
  });
}

test('durations: parse and format', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration(''), undefined);
  assert.equal(parseDuration('1m1h'), undefined);
  assert.equal(formatDuration(130_000), '2m10s');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(3_600_000), '1h');
});

test('action.yml is generated from the input definitions and declares exactly CONTRACT.md', () => {
  const committed = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');
  assert.equal(committed, renderActionYaml(), 'action.yml is stale: run npm run build');
  const action = parse(committed);
  assert.equal(action.runs.using, 'node24');
  assert.equal(action.runs.main, 'dist/index.js');
  assert.ok(action.branding.icon && action.branding.color);
  const contract = [
    // inventory, machine-networks and max-requested-duration: issue 24 (the inventory from the installer's files, the bounds of undeclared machines, the requested lifetime)
    'kubeconfig', 'context', 'nodes', 'inventory', 'machine-networks', 'max-requested-duration', 'nodes-timeout', 'wait-for-operators', 'stable-period', 'operators-timeout', 'ignore-operators',
    'wait-for-cluster-version', 'machine-config-pools', 'registry-storage', 'registry-pvc-claim', 'registry-pvc-size', 'registry-pvc-access-mode', 'registry-pvc-storage-class',
    'registry-rollout-strategy', 'registry-replicas', 'registry-timeout', 'dry-run', 'poll-interval', 'summary',
  ];
  assert.deepEqual(Object.keys(action.inputs), contract);
  // CONTRACT.md's outputs, plus those an issue added: approved-csrs-omitted and refused-csrs-omitted (issue 22, the bounds of the lists).
  assert.deepEqual(Object.keys(action.outputs), ['result', 'approved-csrs', 'approved-csrs-omitted', 'refused-csrs', 'refused-csrs-omitted', 'nodes', 'nodes-ready', 'operators-stable', 'unstable-operators', 'registry', 'cluster-version', 'machine-config-pools', 'diagnostics-path', 'duration-seconds']);
  // every default in action.yml parses
  assert.doesNotThrow(() => parseSettings((name) => action.inputs[name].default));
  assert.equal(INPUTS.length, contract.length);
  assert.equal(OUTPUTS.length, 14);
});

test('README lists every input and output of action.yml', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const { name } of [...INPUTS, ...OUTPUTS]) assert.ok(readme.includes(`\`${name}\``), `README does not mention ${name}`);
});

test('CLI --help is generated from the same definitions as action.yml', async () => {
  const { helpText } = await import('../../src/cli/options.ts');
  const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8'));
  const help = helpText();
  for (const [name, input] of Object.entries<{ description: string }>(action.inputs)) {
    // The CLI takes the kubeconfig as a file path, the action as content; the inventory file is --nodes-file.
    if (name === 'inventory') continue;
    assert.ok(help.includes(`--${name}`), `--${name} in --help`);
    if (name !== 'kubeconfig') assert.ok(help.includes(input.description), `description of ${name} in --help`);
  }
  assert.match(help, /--kubeconfig PATH/);
  assert.match(help, /--nodes-file PATH\n.*nodes-config\.yaml/);
  assert.doesNotMatch(help, /--inventory/);
  assert.match(help, /Exit codes: 0 success, 1 error .*, 2 timeout/);
});

test('kubeconfig: never a silent fallback to localhost; base64 and context checks', async () => {
  const { loadKubeConfig } = await import('../../src/cluster/kubeconfig.ts');
  const none = { HOME: '/nonexistent-home', KUBECONFIG: '/nonexistent/config' };
  assert.throws(() => loadKubeConfig('', '', none), (e: unknown) => e instanceof InputError && e.input === 'kubeconfig' && /no kubeconfig file was found/.test(e.message));
  const yaml = 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://10.0.0.1:6443"}\nusers:\n- name: u\n  user: {token: secret-token-value}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n';
  const loaded = loadKubeConfig(Buffer.from(yaml).toString('base64'), '', none);
  assert.equal(loaded.config.getCurrentCluster()?.server, 'https://10.0.0.1:6443');
  assert.ok(loaded.secrets.includes('secret-token-value'));
  assert.throws(() => loadKubeConfig(yaml, 'other', none), (e: unknown) => e instanceof InputError && e.input === 'context' && /ctx/.test(e.message));
  assert.throws(() => loadKubeConfig(yaml.replace('current-context: ctx\n', ''), '', none), (e: unknown) => e instanceof InputError && /no current-context/.test(e.message));
  assert.throws(() => loadKubeConfig('%%% not yaml', '', none), (e: unknown) => e instanceof InputError && e.input === 'kubeconfig');
});

test('settings: completion inputs', () => {
  const s = settingsFrom({ 'wait-for-cluster-version': 'false', 'machine-config-pools': 'worker, infra\nworker' });
  assert.equal(s.waitForClusterVersion, false);
  assert.deepEqual(s.machineConfigPools, ['worker', 'infra']);
  assert.throws(() => settingsFrom({ 'wait-for-cluster-version': 'yes' }), /Input 'wait-for-cluster-version': 'yes' is not a known value\. Accepted: true, false\./);
  assert.throws(() => settingsFrom({ 'machine-config-pools': 'Worker Pool' }), /Input 'machine-config-pools': 'Worker Pool' is not a valid name\. Accepted: object names separated by newlines or commas/);
});
