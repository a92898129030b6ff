// npm run demo: a user-provisioned install on the real test control plane (3 control-plane nodes
// Ready, 3 workers joining, the registry Removed, operators converging), finished by the bundled
// action exactly as a runner would run it. Prints the action's log, outputs and job summary.
// The workers are real kubelets (test/env/kubelet.ts; root and unshare needed, else simulated);
// the control-plane nodes, the operators and the registry are simulated.
import { startControlPlane } from '../test/env/controlplane.ts';
import { realKubeletsUnavailable, startRealKubelets, type RealKubelet } from '../test/env/kubelet.ts';
import { OPENSHIFT_OPERATORS } from '../test/sim/operators.ts';
import { startInstall } from '../test/sim/install.ts';
import { runAction } from '../test/integration/harness.ts';

const step = (text: string) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);

step('control plane: etcd 3.6, kube-apiserver and kube-controller-manager 1.34 (Node authorizer, RBAC, NodeRestriction, CSR signer)');
console.log('The first run on a machine builds them from their Go modules (about 10 minutes on 2 cores, 360 MB of downloads); later runs start in seconds.');
const cp = await startControlPlane();
console.log(`API server ${cp.version} ready in ${(cp.timings.total / 1000).toFixed(1)}s`);
let exitCode = 1;
const workers = [
  { name: 'worker-0', addresses: ['10.0.1.20'] },
  { name: 'worker-1', addresses: ['10.0.1.21'] },
  // starts a few seconds after the action, as a late machine
  { name: 'worker-2', addresses: ['10.0.1.22'] },
];
const noRealKubelets = realKubeletsUnavailable();
const real: RealKubelet[] = [];
let late: NodeJS.Timeout | undefined;
let lateStarted: Promise<unknown> | undefined;
try {
  step(`simulating the install: 3 control-plane nodes Ready, registry Removed, operators converging within 60s; workers ${workers.map((w) => w.name).join(', ')} booting`);
  const sim = await startInstall(cp, {
    controlPlaneNodes: 3,
    workers: noRealKubelets ? workers.map((w, i) => ({ ...w, startAfterMs: i === 2 ? 5000 : 0 })) : [],
    operators: { converging: { names: OPENSHIFT_OPERATORS, withinMs: 60_000, seed: 7 } },
    registry: { rolloutMs: 5000 },
  });
  if (noRealKubelets) {
    console.log(`machines: master-0..2 and the workers simulated (${noRealKubelets})`);
  } else {
    const [early, later] = [workers.slice(0, 2), workers.slice(2)];
    console.log(`building or finding the kubelet ${cp.version} and its fake container runtime (first use: about 1.5 minutes)`);
    real.push(...await startRealKubelets(cp, early));
    late = setTimeout(() => { lateStarted = startRealKubelets(cp, later).then((k) => real.push(...k)); }, 5000);
    console.log(`machines: ${workers.map((w) => w.name).join(', ')} are REAL kubelets ${cp.version} (unmodified, fake CRI runtime, each in its own mount namespace; the demo sets their addresses as a cloud controller manager does); master-0..2 are simulated Nodes`);
  }
  // A forged request, to show that only verified identities are approved.
  await sim.adversary.clientForUnlistedMachine('rogue-0');

  step('running dist/index.js as the least-privilege identity of deploy/rbac.yaml');
  const run = await runAction(cp, {
    // worker-2 declares no addresses: its serving request is checked against its Node's
    nodes: 'worker-0 10.0.1.20 worker-0\nworker-1 10.0.1.21 worker-1\nworker-2',
    'nodes-timeout': '5m',
    'registry-storage': 'pvc',
    'registry-pvc-claim': 'image-registry-storage-rwo',
    'registry-pvc-size': '100Gi',
    'stable-period': '20s',
    'operators-timeout': '5m',
  });
  await sim.stop();
  if (real.length > 0) {
    step('the real workers serve TLS with the certificates the action approved');
    for (const k of real) {
      const cert = await k.servingCertificate();
      console.log(`${k.name} (real kubelet, 127.0.0.1:${k.port}): ${cert ? `${cert.subject.replace('\n', ', ')}; ${cert.subjectAltName}; valid to ${cert.validTo}` : 'no serving certificate yet'}`);
    }
  }

  step('action log');
  process.stdout.write(run.stdout.replace(/^::add-mask::.*$/gm, '::add-mask::***'));
  step('outputs');
  for (const [name, value] of Object.entries(run.outputs)) console.log(`${name}: ${value}`);
  step('job summary (Markdown)');
  console.log(run.summary);
  step(`exit code ${run.exitCode}, result ${run.outputs.result}`);
  exitCode = run.exitCode ?? 1;
} finally {
  clearTimeout(late);
  await lateStarted?.catch(() => undefined);
  await Promise.all(real.map((k) => k.remove()));
  await cp.stop();
}
process.exit(exitCode);
