// npm run demo: a user-provisioned install on the real test control plane (3 control-plane nodes
// Ready, 2 workers joining, the registry Removed, operators converging), finished by the bundled
// action exactly as a runner would run it. Prints the action's log, outputs and job summary.
import { startControlPlane } from '../test/env/controlplane.ts';
import { OPENSHIFT_OPERATORS } from '../test/sim/operators.ts';
import { startInstall } from '../test/sim/install.ts';
import { runAction } from '../test/integration/harness.ts';

const step = (text: string) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);

step('control plane: etcd 3.6, kube-apiserver and kube-controller-manager 1.34 (Node authorizer, RBAC, NodeRestriction, CSR signer)');
console.log('The first run on a machine builds them from their Go modules (about 10 minutes on 2 cores, 360 MB of downloads); later runs start in seconds.');
const cp = await startControlPlane();
console.log(`API server ${cp.version} ready in ${(cp.timings.total / 1000).toFixed(1)}s`);
let exitCode = 1;
try {
  step('simulating the install: 3 control-plane nodes Ready, workers worker-0 and worker-1 booting, registry Removed, operators converging within 60s');
  const sim = await startInstall(cp, {
    controlPlaneNodes: 3,
    workers: [
      { name: 'worker-0', addresses: ['10.0.1.20'] },
      // an RSA key: the legacy usage sets with key encipherment (worker-0 is ECDSA, two usages)
      { name: 'worker-1', addresses: ['10.0.1.21'], startAfterMs: 5000, keyType: 'rsa' },
    ],
    operators: { converging: { names: OPENSHIFT_OPERATORS, withinMs: 60_000, seed: 7 } },
    registry: { rolloutMs: 5000 },
  });
  // A forged request, to show that only verified identities are approved.
  await sim.adversary.clientForUnlistedMachine('rogue-0');

  step('running dist/index.js as the least-privilege identity of deploy/rbac.yaml');
  const run = await runAction(cp, {
    nodes: 'worker-0 10.0.1.20 worker-0\nworker-1 10.0.1.21 worker-1',
    'nodes-timeout': '5m',
    'registry-storage': 'pvc',
    'registry-pvc-claim': 'image-registry-storage-rwo',
    'registry-pvc-size': '100Gi',
    'stable-period': '20s',
    'operators-timeout': '5m',
  });
  await sim.stop();

  step('action log');
  process.stdout.write(run.stdout.replace(/^::add-mask::.*$/gm, '::add-mask::***'));
  step('outputs');
  for (const [name, value] of Object.entries(run.outputs)) console.log(`${name}: ${value}`);
  step('job summary (Markdown)');
  console.log(run.summary);
  step(`exit code ${run.exitCode}, result ${run.outputs.result}`);
  exitCode = run.exitCode ?? 1;
} finally {
  await cp.stop();
}
process.exit(exitCode);
