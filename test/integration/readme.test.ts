// The README's CLI examples, run as written against the real control plane and a simulated
// install whose machines are the README's (worker-0 10.0.1.20, worker-1 10.0.1.21).
//
// Which examples run: every ```sh block of README.md whose first line is
// `# runnable-example: <name>`. The block runs whole, in bash, in a fresh directory, with two
// substitutions only: the command word `openshift-finish-install` becomes `node dist/cli.js`
// (this checkout's bundle, under the Node running the tests), and the path after `--kubeconfig`
// becomes the kubeconfig of the least-privilege identity of deploy/rbac.yaml. Every name must have
// its checks below, and every name below must be in the README, so a renamed or dropped example
// fails here. Blocks without the marker (installation, systemd, oc commands) are not run; their
// flags are checked against --help by test/unit/docs.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { runProcess, type ProcessRun } from '../env/process.ts';
import type { SimulatedInstall } from '../sim/install.ts';
import { fencedBlocks } from '../unit/markdown.ts';
import { CLI, parseCliJson, sharedControlPlane } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFIG = PATHS.registryConfig;
const PVCS = PATHS.registryPvcs;

const runnable = new Map<string, string>();
const DOC_FILES = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
for (const block of DOC_FILES.flatMap((file) => fencedBlocks(readFileSync(join(ROOT, file), 'utf8')))) {
  const name = /^# runnable-example: (\S+)\n/.exec(block.text)?.[1];
  if (block.lang === 'sh' && name) {
    assert.ok(!runnable.has(name), `two README examples are named ${name}`);
    runnable.set(name, block.text);
  }
}

/** The block with the CLI of this checkout and the test kubeconfig (passed in the environment). */
function toScript(block: string): string {
  const script = block
    .replace(/(^|[;&|(]\s*)openshift-finish-install(?=\s|$)/gm, '$1"$OFI_NODE" "$OFI_CLI"')
    .replace(/--kubeconfig(\s+|=)\S+/g, '--kubeconfig "$OFI_KUBECONFIG"');
  assert.match(script, /"\$OFI_NODE" "\$OFI_CLI"/, 'the example runs openshift-finish-install');
  return script;
}

const bed = sharedControlPlane();
let sim: SimulatedInstall;
let rogue: string;

before(async () => {
  sim = await bed.install({
    controlPlaneNodes: 3,
    workers: [
      { name: 'worker-0', addresses: ['10.0.1.20'] },
      { name: 'worker-1', addresses: ['10.0.1.21'] },
    ],
    registry: { rolloutMs: 1000 },
  });
  rogue = await sim.adversary.clientForUnlistedMachine('rogue-0');
});

/** Runs the example in a directory of its own (under the bed's, removed with it). */
async function runExample(name: string): Promise<ProcessRun & { dir: string }> {
  const block = runnable.get(name);
  assert.ok(block, `no page of the docs has an sh block marked "# runnable-example: ${name}"`);
  const dir = mkdtempSync(join(bed.dir, `readme-${name}-`));
  const env = { PATH: process.env.PATH ?? '', HOME: dir, OFI_NODE: process.execPath, OFI_CLI: CLI, OFI_KUBECONFIG: bed.cp.writeKubeconfig('action') };
  return { ...(await runProcess('bash', ['-c', toScript(block)], { cwd: dir, env })), dir };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const get = (path: string): Promise<any> => bed.cp.admin.request('GET', path);

test('the README marks exactly the examples this test knows how to check', () => {
  assert.deepEqual([...runnable.keys()].sort(), ['audit', 'finish', 'help']);
  assert.equal(toScript('x && openshift-finish-install --kubeconfig ~/a --help'), 'x && "$OFI_NODE" "$OFI_CLI" --kubeconfig "$OFI_KUBECONFIG" --help');
});

test('README "help": --help lists the options and the exit codes', { timeout: 30_000 }, async () => {
  const run = await runExample('help');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: openshift-finish-install \[options\]/);
  assert.match(run.stdout, /--nodes-file PATH/);
  assert.match(run.stdout, /Exit codes: 0 success, 1 error .*, 2 timeout\./);
});

test('README "audit": the dry-run lists what it would approve and refuse, and writes nothing', { timeout: 120_000 }, async () => {
  const run = await runExample('audit');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, '', 'the JSON went to audit.json');
  assert.match(run.stderr, /dry-run: nothing will be written/);
  const audit = parseCliJson(readFileSync(join(run.dir, 'audit.json'), 'utf8'));
  assert.equal(audit.result, 'success');
  const clientCsrs = ['worker-0', 'worker-1'].map((n) => {
    const csr = sim.kubelet(n).liveCsr;
    assert.ok(csr, `${n} filed a client CSR`);
    return csr;
  });
  assert.deepEqual([...audit['approved-csrs']].sort(), [...clientCsrs].sort(), 'would approve the client request of each listed worker');
  assert.deepEqual(
    audit['refused-csrs'].map((r) => [r.name, r.node, r.reason]),
    [[rogue, 'rogue-0', 'node-not-listed']],
  );
  assert.deepEqual(audit.registry, { managementState: 'Managed', storage: 'pvc', claim: 'image-registry-storage', rolloutStrategy: 'Recreate', replicas: 1, ready: false, changed: false });
  assert.match(run.stderr, /would create PersistentVolumeClaim image-registry-storage \(100Gi, ReadWriteOnce\)/);

  // nothing written: the CSRs are still Pending, the registry still Removed, no claim
  for (const name of [...clientCsrs, rogue]) assert.equal((await get(objectPath(PATHS.csrs, name))).status?.conditions, undefined, `${name} still Pending`);
  assert.equal((await get(CONFIG)).spec.managementState, 'Removed');
  assert.deepEqual((await get(PVCS)).items, []);
});

test('README "finish": nodes Ready and the registry on a ReadWriteOnce thin-csi claim, exit code 0', { timeout: 180_000 }, async () => {
  const run = await runExample('finish');
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^result: success after /m);
  assert.match(run.stdout, /worker-0 +client approved +serving issued +Ready/);
  assert.match(run.stdout, /worker-1 +client approved +serving issued +Ready/);
  assert.match(run.stdout, /left Pending: \S+ \(rogue-0, kubernetes\.io\/kube-apiserver-client-kubelet\): node-not-listed/);
  assert.match(run.stdout, /registry: Managed, pvc claim image-registry-storage, Recreate, 1 replica\(s\), changed, ready/);
  assert.match(run.stdout, /timeline:/);
  assert.match(run.stdout, /^nodes Ready, registry ready$/m, 'the case statement saw exit code 0');
  assert.ok(!existsSync(join(run.dir, 'diagnostics')), 'no diagnostics on success');
  assert.ok(!run.stdout.includes(bed.cp.actionToken) && !run.stderr.includes(bed.cp.actionToken), 'the token is never printed');

  await sim.whenReady(['worker-0', 'worker-1'], 5_000);
  const config = await get(CONFIG);
  assert.equal(config.spec.managementState, 'Managed');
  assert.equal(config.spec.rolloutStrategy, 'Recreate');
  assert.equal(config.spec.replicas, 1);
  assert.deepEqual(config.spec.storage.pvc, { claim: 'image-registry-storage' });
  const claim = await get(objectPath(PVCS, 'image-registry-storage'));
  assert.equal(claim.spec.storageClassName, 'thin-csi');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  assert.equal(claim.spec.resources.requests.storage, '100Gi');
  assert.equal((await get(objectPath(PATHS.csrs, rogue))).status?.conditions, undefined, 'the forged request is still Pending');
});
