// etcd faults in the middle of approvals, on the real API server: etcd stopped for 20 s (SIGSTOP,
// as a stalled disk or a paused VM; the API server's requests hang) and etcd restarted on the
// same data. In both: every valid CSR approved, the forged one not, the run succeeds within its
// deadlines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { until, untilObserved } from '../env/until.ts';
import type { SimulatedInstall } from '../sim/install.ts';
import { sharedControlPlane, startAction, type ActionRun } from './harness.ts';

const bed = sharedControlPlane();
const NODES_TIMEOUT_S = 150;
const workers = (prefix: string, count: number, net: number, spreadMs: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, addresses: [`10.3.${net}.${10 + i}`], startAfterMs: Math.round((spreadMs * i) / count) }));
const inputs = (names: string[]) => ({ nodes: names.join('\n'), 'wait-for-operators': 'false', 'nodes-timeout': `${NODES_TIMEOUT_S}s` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function assertOnlyValidApproved(sim: SimulatedInstall, run: ActionRun, rogue: string, elapsedMs: number): Promise<void> {
  assert.equal(run.outputs.result, 'success', run.stdout.slice(-3000));
  assert.ok(elapsedMs < NODES_TIMEOUT_S * 1000, `finished within nodes-timeout (${elapsedMs} ms)`);
  const approved = new Set(run.json('approved-csrs'));
  const legit = new Set(sim.kubelets.flatMap((k) => [...k.clientCsrs, ...k.servingCsrs]));
  for (const name of approved) assert.ok(legit.has(name), `${name} approved by the action belongs to a kubelet`);
  for (const kubelet of sim.kubelets) {
    assert.equal(kubelet.phase, 'ready', `${kubelet.name} Ready`);
    const serving = kubelet.servingCsrs.at(-1)!;
    assert.ok(approved.has(serving), `${kubelet.name}'s serving CSR ${serving} approved by the action:\n${run.stdout.split('\n').filter((l) => l.includes(serving) || l.includes(kubelet.name)).join('\n')}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rogueCsr: any = await bed.cp.admin.request('GET', objectPath(PATHS.csrs, rogue));
  assert.equal(rogueCsr.status?.conditions, undefined, 'the forged request stays Pending');
  assert.ok(run.json('refused-csrs').some((r) => r.name === rogue && r.reason === 'node-not-listed'));
}

/** Waits until the action has approved at least one CSR and some kubelets are still to come. */
async function midApprovals(stdout: () => string): Promise<void> {
  await untilObserved(stdout, (log) => /approved (client|serving) CSR/.test(log), { message: 'the action approved a first CSR', timeoutMs: 30_000 });
}

test('etcd stopped for 20 s (SIGSTOP, then SIGCONT) in the middle of approvals', { timeout: 300_000 }, async () => {
  const spec = workers('e-worker', 8, 1, 12_000);
  const sim = await bed.install({ workers: spec });
  const rogue = await sim.adversary.clientForUnlistedMachine('e-rogue');
  const started = Date.now();
  const action = startAction(bed.cp, inputs(spec.map((w) => w.name)));
  await midApprovals(action.stdoutSoFar);
  // Stopped the moment a kubelet's request is stored: the action sees it from the API server's
  // watch cache and its approval hangs on etcd (and times out on our side) while etcd is stopped.
  const from = sim.log.entries.length;
  await until(() => sim.log.entries.slice(from).some((e) => e.kind === 'client-csr-created' || e.kind === 'serving-csr-created'), {
    message: 'a kubelet filed a CSR after the first approval',
    timeoutMs: 30_000,
    intervalMs: 5,
  });
  bed.cp.pauseEtcd();
  try {
    await sleep(20_000);
  } finally {
    bed.cp.resumeEtcd();
  }
  const run = await action.done;
  await assertOnlyValidApproved(sim, run, rogue, Date.now() - started);
});

test('etcd restarted on the same data in the middle of approvals', { timeout: 300_000 }, async () => {
  const spec = workers('f-worker', 8, 2, 10_000);
  const sim = await bed.install({ workers: spec });
  const rogue = await sim.adversary.clientForUnlistedMachine('f-rogue');
  const started = Date.now();
  const action = startAction(bed.cp, inputs(spec.map((w) => w.name)));
  await midApprovals(action.stdoutSoFar);
  await bed.cp.restartEtcd();
  const run = await action.done;
  await assertOnlyValidApproved(sim, run, rogue, Date.now() - started);
});
