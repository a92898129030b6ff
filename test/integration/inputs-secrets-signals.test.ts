// Bad input never reaches the cluster, secrets never reach the log, and a cancelled job still
// reports: against the real API server, the bundled action under its least-privilege identity.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { auditLog } from '../env/audit.ts';
import { ACTION_USER } from '../env/controlplane.ts';
import { untilObserved } from '../env/until.ts';
import type { SimulatedInstall } from '../sim/install.ts';
import { runAction, sharedControlPlane, startAction, type ActionRun } from './harness.ts';

// Who wrote is read from the audit log: the simulated install keeps writing meanwhile.
const audit = auditLog();
const bed = sharedControlPlane({ apiServerArgs: audit.apiServerArgs });
after(() => audit.remove());
let sim: SimulatedInstall;
before(async () => {
  sim = await bed.install({ controlPlaneNodes: 1, workers: [{ name: 'i-worker-0', addresses: ['10.3.0.10'] }], registry: {} });
});

const valid = { nodes: 'i-worker-0', 'wait-for-operators': 'false', 'nodes-timeout': '60s', 'registry-storage': 'emptyDir' };
const DURATION = 'a duration such as 90s, 15m, 1h or 1h30m, greater than zero';
const NODES = 'one machine per line or comma-separated entry: a node name (lowercase RFC 1123), optionally followed by its IP addresses and DNS names separated by spaces';
const OBJECT_NAME = 'lowercase letters, digits, "-" and ".", at most 253 characters';
const KUBECONFIG = 'kubeconfig YAML, or the same base64-encoded; or empty to use KUBECONFIG, then ~/.kube/config';
/** Each malformed input and the one error line it gives: the input, the problem, and what is accepted. */
const badInputs: Array<[string, Record<string, string>, string]> = [
  ['nodes-timeout', { 'nodes-timeout': '0s' }, `Input 'nodes-timeout': must be greater than zero. Accepted: ${DURATION}.`],
  ['nodes-timeout', { 'nodes-timeout': '-1m' }, `Input 'nodes-timeout': '-1m' is not a duration. Accepted: ${DURATION}.`],
  ['stable-period', { 'stable-period': 'soon' }, "Input 'stable-period': 'soon' is not a duration. Accepted: a duration such as 90s, 15m, 1h or 1h30m (0s allowed)."],
  ['operators-timeout', { 'operators-timeout': '1d' }, `Input 'operators-timeout': '1d' is not a duration. Accepted: ${DURATION}.`],
  ['registry-timeout', { 'registry-timeout': '15' }, `Input 'registry-timeout': '15' is not a duration. Accepted: ${DURATION}.`],
  ['poll-interval', { 'poll-interval': '0s' }, `Input 'poll-interval': must be greater than zero. Accepted: ${DURATION}.`],
  ['wait-for-operators', { 'wait-for-operators': 'maybe' }, "Input 'wait-for-operators': 'maybe' is not a known value. Accepted: true, false."],
  ['dry-run', { 'dry-run': 'yes' }, "Input 'dry-run': 'yes' is not a known value. Accepted: true, false."],
  ['summary', { summary: '0' }, "Input 'summary': '0' is not a known value. Accepted: true, false."],
  ['registry-storage', { 'registry-storage': 's3' }, "Input 'registry-storage': 's3' is not a known value. Accepted: keep, emptyDir, pvc."],
  ['registry-pvc-access-mode', { 'registry-storage': 'pvc', 'registry-pvc-access-mode': 'RWO' }, "Input 'registry-pvc-access-mode': 'RWO' is not a known value. Accepted: ReadWriteOnce, ReadWriteMany."],
  ['registry-rollout-strategy', { 'registry-storage': 'pvc', 'registry-rollout-strategy': 'Rolling' }, "Input 'registry-rollout-strategy': 'Rolling' is not a known value. Accepted: auto, Recreate, RollingUpdate."],
  ['registry-replicas', { 'registry-storage': 'pvc', 'registry-replicas': '-1' }, "Input 'registry-replicas': '-1' is not a replica count. Accepted: a whole number from 1 to 100, or empty."],
  ['registry-replicas (emptyDir, 3)', { 'registry-replicas': '3' }, "Input 'registry-replicas': emptyDir storage with 3 replicas gives each pod its own storage. Accepted: 1, or registry-storage: pvc."],
  ['registry-pvc-claim (missing claim)', { 'registry-storage': 'pvc', 'registry-pvc-claim': 'no-such-claim' }, "Input 'registry-pvc-claim': PersistentVolumeClaim openshift-image-registry/no-such-claim does not exist; create it or set registry-pvc-size to have it created"],
  ['registry-pvc-size', { 'registry-storage': 'pvc', 'registry-pvc-size': 'lots' }, "Input 'registry-pvc-size': 'lots' is not a positive storage quantity. Accepted: a Kubernetes quantity such as 100Gi, 500Mi or 1Ti."],
  ['registry-pvc-claim', { 'registry-storage': 'pvc', 'registry-pvc-claim': 'Bad Claim' }, `Input 'registry-pvc-claim': 'Bad Claim' is not a valid object name. Accepted: ${OBJECT_NAME}.`],
  ['registry-pvc-storage-class', { 'registry-storage': 'pvc', 'registry-pvc-storage-class': 'UPPER' }, `Input 'registry-pvc-storage-class': 'UPPER' is not a valid object name. Accepted: ${OBJECT_NAME}.`],
  ['nodes: invalid name', { nodes: 'Worker_0' }, `Input 'nodes': 'Worker_0' is not a valid node name. Accepted: ${NODES}.`],
  ['nodes: bad address', { nodes: 'i-worker-0 10.0.0.300' }, `Input 'nodes': '10.0.0.300' (for node 'i-worker-0') is neither an IP address nor a DNS name. Accepted: ${NODES}.`],
  ['nodes: duplicate', { nodes: 'i-worker-0, i-worker-0' }, `Input 'nodes': node 'i-worker-0' is listed twice. Accepted: ${NODES}.`],
  ['ignore-operators', { 'ignore-operators': 'Not Valid' }, "Input 'ignore-operators': 'Not Valid' is not a valid name. Accepted: object names separated by newlines or commas."],
  ['kubeconfig: not YAML', { kubeconfig: 'this is: [not a kubeconfig' }, `Input 'kubeconfig': the 'kubeconfig' input is neither kubeconfig YAML nor base64. Accepted: ${KUBECONFIG}.`],
  ['kubeconfig: base64 garbage', { kubeconfig: Buffer.from('\u0000\u0001garbage').toString('base64') }, `Input 'kubeconfig': the 'kubeconfig' input is base64 but does not decode to a kubeconfig. Accepted: ${KUBECONFIG}.`],
  ['context: unknown', { context: 'no-such-context' }, "Input 'context': context 'no-such-context' is not in the 'kubeconfig' input. Accepted: action."],
];

test('every malformed input fails with its name and the accepted forms, and writes nothing', { timeout: 300_000 }, async () => {
  const mark = audit.mark();
  for (const [label, override, message] of badInputs) {
    const run = await runAction(bed.cp, { ...valid, ...override });
    assert.equal(run.exitCode, 1, `${label}: exit code`);
    assert.equal(run.outputs.result, 'error', `${label}: result`);
    assert.deepEqual(run.stdout.split('\n').filter((line) => line.startsWith('::error::')), [`::error::${message}`], label);
  }
  assert.deepEqual(audit.requests({ user: ACTION_USER, since: mark, writes: true }).map((r) => `${r.verb} ${r.uri}`), [], 'no write reached the API server');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const config: any = await bed.cp.admin.request('GET', PATHS.registryConfig);
  assert.equal(config.spec.managementState, 'Removed');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const csr: any = await bed.cp.admin.request('GET', objectPath(PATHS.csrs, sim.kubelet('i-worker-0').clientCsrs[0]!));
  assert.equal(csr.status?.conditions, undefined);
});

/** Everything a person could read: the log without the runner's own mask commands, outputs, summary. */
const visible = (run: ActionRun) =>
  [run.stdout.replace(/^::add-mask::.*$/gm, ''), run.stderr, JSON.stringify(run.outputs), run.summary, run.summaryText].join('\n');

test('tokens, keys, certificates and the kubeconfig never reach the log, in debug and on errors', { timeout: 300_000 }, async () => {
  const token = bed.cp.actionToken;
  const kubeconfig = bed.cp.kubeconfig('action');
  const runs = [
    // success with debug logging, approvals and a registry change
    await runAction(bed.cp, { ...valid, 'registry-storage': 'keep' }, { env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' } }),
    // a failure built from an API error (bad token: 401) and one from a forbidden call
    await runAction(undefined, { ...valid, kubeconfig: kubeconfig.replace(token, `${token}x`) }, { env: { RUNNER_DEBUG: '1' } }),
    await runAction(undefined, { ...valid, kubeconfig: Buffer.from(kubeconfig).toString('base64'), nodes: 'i-worker-9', 'nodes-timeout': '3s' }, { env: { RUNNER_DEBUG: '1' } }),
  ];
  assert.equal(runs[0]!.outputs.result, 'success', runs[0]!.stdout);
  assert.equal(runs[1]!.outputs.result, 'error');
  assert.match(runs[1]!.stdout, /HTTP 401/);
  for (const run of runs) {
    const text = visible(run);
    assert.ok(!text.includes(token), 'token not printed');
    assert.ok(!text.includes(kubeconfig.slice(0, 200)), 'kubeconfig not printed');
    assert.ok(!text.includes(Buffer.from(kubeconfig).toString('base64').slice(0, 60)), 'base64 kubeconfig not printed');
    assert.doesNotMatch(text, /BEGIN (CERTIFICATE|CERTIFICATE REQUEST|EC PRIVATE KEY|PRIVATE KEY)/);
    assert.doesNotMatch(text, /LS0tLS1CRUdJTi/, 'no base64 PEM');
  }
  // The runner is told to mask them.
  assert.match(runs[0]!.stdout, new RegExp(`^::add-mask::${token}$`, 'm'));
});

test('SIGTERM mid-run: exits non-zero within seconds, with outputs and the summary written', { timeout: 120_000 }, async () => {
  const action = startAction(bed.cp, { ...valid, nodes: 'i-worker-0\ni-never', 'registry-storage': 'keep', 'nodes-timeout': '10m' });
  await untilObserved(action.stdoutSoFar, (log) => /\[nodes\]/.test(log), { message: 'the nodes phase started', timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 1500));
  const signalled = Date.now();
  action.child.kill('SIGTERM');
  const run = await action.done;
  assert.ok(Date.now() - signalled < 5000, `exited ${Date.now() - signalled} ms after SIGTERM`);
  assert.notEqual(run.exitCode, 0);
  assert.equal(run.outputs.result, 'error');
  assert.match(run.stdout, /::error::Cancelled/);
  const nodes = run.json('nodes');
  assert.deepEqual(nodes.map((n) => n.name), ['i-worker-0', 'i-never']);
  assert.match(run.summaryText, /i-never/);
});
