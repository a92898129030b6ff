// The CLI over the same core: same outputs as the action, exit codes, and the --watch renewal
// service, against the real API server under the least-privilege identity.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { until, untilObserved } from '../env/until.ts';
import { nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { parseCliJson, runAction, sharedControlPlane, startCli as startCliIn, type JsonOutputs } from './harness.ts';

const bed = sharedControlPlane();

const startCli = (args: string[], timeoutMs?: number) =>
  startCliIn(['--kubeconfig', bed.cp.writeKubeconfig('action'), '--poll-interval', '2s', ...args], { home: bed.dir, timeoutMs });
const runCli = (args: string[]) => startCli(args).done;

test('the CLI and the action give the same outputs on the same install', { timeout: 180_000 }, async () => {
  const sim = await bed.install({ controlPlaneNodes: 2, workers: [{ name: 'k-worker-0', addresses: ['10.4.0.10'], preexistingClientCsrs: 2 }, { name: 'k-worker-1', addresses: ['10.4.0.11'] }] });
  await sim.adversary.clientForUnlistedMachine('k-rogue');
  const nodes = 'k-worker-0 10.4.0.10 k-worker-0\nk-worker-1';
  const action = await runAction(bed.cp, { nodes, 'dry-run': 'true', 'wait-for-operators': 'false' });
  const cli = await runCli(['--nodes', nodes, '--dry-run', '--no-wait-for-operators', '--output', 'json']);
  assert.equal(cli.code, 0, cli.stderr);
  const fromCli = parseCliJson(cli.stdout);
  assert.equal(fromCli.result, action.outputs.result);
  assert.equal(String(fromCli['nodes-ready']), action.outputs['nodes-ready']);
  assert.equal(String(fromCli['operators-stable']), action.outputs['operators-stable']);
  for (const name of ['approved-csrs', 'refused-csrs', 'nodes', 'unstable-operators', 'registry', 'cluster-version', 'machine-config-pools'] as const satisfies ReadonlyArray<keyof JsonOutputs>) {
    assert.deepEqual(fromCli[name], action.json(name), name);
  }
  assert.equal(fromCli['approved-csrs'].length, 3);

  const real = await runCli(['--nodes', nodes, '--no-wait-for-operators', '--nodes-timeout', '90s']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /result: success/);
  assert.match(real.stdout, /k-worker-1 +client approved +serving issued +Ready/);
  assert.match(real.stdout, /timeline:/);
  assert.match(real.stderr, /\[nodes\] approved serving CSR csr-\S+ for k-worker-1/);
  assert.ok(!real.stderr.includes(bed.cp.actionToken) && !real.stdout.includes(bed.cp.actionToken));
});

test('exit codes: 2 for a timeout, 1 for bad input naming the option', { timeout: 120_000 }, async () => {
  const timeout = await runCli(['--nodes', 'k-never', '--no-wait-for-operators', '--nodes-timeout', '3s']);
  assert.equal(timeout.code, 2);
  assert.match(timeout.stderr, /Nodes not Ready.*k-never \(no client CSR seen/);
  const bad = await runCli(['--nodes-timeout', 'soon']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Option --nodes-timeout: 'soon' is not a duration/);
  const unknown = await runCli(['--no-such-flag']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--help/);
});

test('--watch keeps approving: renewals, newly listed machines; a renewal with another node\'s address is refused', { timeout: 240_000 }, async () => {
  const sim = await bed.install({ workers: [{ name: 'w-worker-0', addresses: ['10.4.1.10'] }, { name: 'w-worker-1', addresses: ['10.4.1.11'], startAfterMs: 60_000_000 }] });
  const nodesFile = join(bed.dir, 'nodes');
  writeFileSync(nodesFile, 'w-worker-0\n');
  const cli = startCli(['--watch', '--nodes-file', nodesFile], Infinity);
  await sim.whenReady(['w-worker-0']);

  // A newly listed machine: the service reads the file again and serves it.
  appendFileSync(nodesFile, 'w-worker-1 10.4.1.11 w-worker-1\n');
  await untilObserved(cli.stderrSoFar, (log) => log.includes('inventory now lists w-worker-0, w-worker-1'), { message: 'the service read the nodes file again', timeoutMs: 10_000 });
  void sim.kubelet('w-worker-1').start();
  await sim.whenReady(['w-worker-1']);

  // Serving renewals: one with its own address, one naming w-worker-1's address.
  const renewal = (ips: string[]) =>
    sim.adversary.file('renewal', { identity: nodeIdentity('w-worker-0'), signerName: SIGNER.kubeletServing, usages: USAGES.serving, spec: { commonName: 'system:node:w-worker-0', organizations: ['system:nodes'], dnsNames: ['w-worker-0'], ipAddresses: ips } });
  const good = await renewal(['10.4.1.10']);
  const stolen = await renewal(['10.4.1.11']);
  const conditionTypes = async (name: string): Promise<string[]> =>
    ((await bed.cp.admin.request('GET', objectPath(PATHS.csrs, name))).status?.conditions ?? []).map((c: { type: string }) => c.type);
  await until(async () => (await conditionTypes(good)).includes('Approved'), { message: `renewal ${good} approved`, timeoutMs: 10_000 });
  await untilObserved(cli.stderrSoFar, (log) => log.includes(stolen), { message: `the service decided ${stolen}`, timeoutMs: 20_000 });
  assert.deepEqual(await conditionTypes(stolen), [], 'renewal with another node\'s address stays Pending');
  cli.child.kill('SIGTERM');
  const run = await cli.done;
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await conditionTypes(stolen), [], 'still Pending when the service stopped');
  assert.match(run.stderr, new RegExp(`refused serving CSR ${stolen} for w-worker-0: san-of-other-node`));
  assert.match(run.stdout, new RegExp(good));
});
