// The CLI over the same core: same outputs as the action, exit codes, and the --watch renewal
// service, against the real API server under the least-privilege identity.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { startInstall, type SimulatedInstall } from '../sim/install.ts';
import { runAction } from './harness.ts';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
let cp: ControlPlane;
let dir: string;
const installs: SimulatedInstall[] = [];
before(async () => {
  cp = await startControlPlane();
  dir = mkdtempSync(join(tmpdir(), 'ofi-cli-'));
});
after(async () => {
  await Promise.all(installs.map((i) => i.stop()));
  await cp?.stop();
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[]): { done: Promise<CliRun>; kill(signal: NodeJS.Signals): void; stderrSoFar(): string } {
  const child = spawn(process.execPath, [CLI, '--kubeconfig', cp.writeKubeconfig('action'), '--poll-interval', '2s', ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return {
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    kill: (signal) => child.kill(signal),
    stderrSoFar: () => stderr,
  };
}
const runCli = (args: string[]) => startCli(args).done;

test('the CLI and the action give the same outputs on the same install', { timeout: 180_000 }, async () => {
  const sim = await startInstall(cp, { controlPlaneNodes: 2, registry: false, workers: [{ name: 'k-worker-0', addresses: ['10.4.0.10'], preexistingClientCsrs: 2 }, { name: 'k-worker-1', addresses: ['10.4.0.11'] }] });
  installs.push(sim);
  await sim.adversary.clientForUnlistedMachine('k-rogue');
  const nodes = 'k-worker-0 10.4.0.10 k-worker-0\nk-worker-1';
  const action = await runAction(cp, { nodes, 'dry-run': 'true', 'wait-for-operators': 'false' });
  const cli = await runCli(['--nodes', nodes, '--dry-run', '--no-wait-for-operators', '--output', 'json']);
  assert.equal(cli.code, 0, cli.stderr);
  const fromCli = JSON.parse(cli.stdout);
  for (const name of ['result', 'approved-csrs', 'refused-csrs', 'nodes', 'nodes-ready', 'operators-stable', 'unstable-operators', 'registry']) {
    const fromAction = name === 'result' ? action.outputs[name] : JSON.parse(action.outputs[name]!);
    assert.deepEqual(fromCli[name], fromAction, name);
  }
  assert.equal(fromCli['approved-csrs'].length, 3);

  const real = await runCli(['--nodes', nodes, '--no-wait-for-operators', '--nodes-timeout', '90s']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /result: success/);
  assert.match(real.stdout, /k-worker-1 +client approved +serving issued +Ready/);
  assert.match(real.stdout, /timeline:/);
  assert.match(real.stderr, /\[nodes\] approved serving CSR csr-\S+ for k-worker-1/);
  assert.ok(!real.stderr.includes(cp.actionToken) && !real.stdout.includes(cp.actionToken));
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
  const sim = await startInstall(cp, { controlPlaneNodes: 0, registry: false, workers: [{ name: 'w-worker-0', addresses: ['10.4.1.10'] }, { name: 'w-worker-1', addresses: ['10.4.1.11'], startAfterMs: 60_000_000 }] });
  installs.push(sim);
  const nodesFile = join(dir, 'nodes');
  writeFileSync(nodesFile, 'w-worker-0\n');
  const cli = startCli(['--watch', '--nodes-file', nodesFile]);
  await sim.whenReady(['w-worker-0']);

  // A newly listed machine: the service reads the file again and serves it.
  appendFileSync(nodesFile, 'w-worker-1 10.4.1.11 w-worker-1\n');
  await new Promise((r) => setTimeout(r, 1500));
  void sim.kubelet('w-worker-1').start();
  await sim.whenReady(['w-worker-1']);

  // Serving renewals: one with its own address, one naming w-worker-1's address.
  const renewal = (ips: string[]) =>
    sim.adversary.file('renewal', { identity: nodeIdentity('w-worker-0'), signerName: SIGNER.kubeletServing, usages: USAGES.serving, spec: { commonName: 'system:node:w-worker-0', organizations: ['system:nodes'], dnsNames: ['w-worker-0'], ipAddresses: ips } });
  const good = await renewal(['10.4.1.10']);
  const stolen = await renewal(['10.4.1.11']);
  const approved = async (name: string) => {
    for (let i = 0; i < 100; i++) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const csr: any = await cp.admin.request('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`);
      if (csr.status?.conditions?.length) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  assert.equal(await approved(good), true, 'renewal approved');
  while (!cli.stderrSoFar().includes(stolen)) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await approved(stolen), false, 'renewal with another node\'s address stays Pending');
  cli.kill('SIGTERM');
  const run = await cli.done;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`refused serving CSR ${stolen} for w-worker-0: san-of-other-node`));
  assert.match(run.stderr, /inventory now lists w-worker-0, w-worker-1/);
  assert.match(run.stdout, new RegExp(good));
});
