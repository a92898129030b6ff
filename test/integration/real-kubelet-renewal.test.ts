// Renewals from a real kubelet: the signer issues 2-minute certificates, so the kubelet renews both
// of its certificates within about a minute and a half of getting them (client-go's certificate
// manager renews at 70-90 % of a lifetime that starts 5 minutes back-dated). The `--watch` service
// approves the serving renewal; the client renewal, filed by the node itself, is the cluster's to
// approve, and the service neither approves nor reports it. Its own control plane (the signing
// duration is the controller manager's flag).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PATHS } from '../../src/cluster/paths.ts';
import { parseCertificateRequest } from '../../src/identity/x509.ts';
import { hostState, realKubeletsUnavailable, startRealKubelet, type RealKubelet } from '../env/kubelet.ts';
import { until } from '../env/until.ts';
import { sharedControlPlane, startCli } from './harness.ts';

const skip = realKubeletsUnavailable();
const bed = sharedControlPlane({ signerArgs: ['--cluster-signing-duration=2m'] });
let kubelet: RealKubelet | undefined;
after(() => kubelet?.remove());

interface Csr { metadata: { name: string }; spec: { request: string; signerName: string; username: string }; status?: { conditions?: { type: string }[]; certificate?: string } }

async function csrsOf(node: string): Promise<Csr[]> {
  const list: { items: Csr[] } = await bed.cp.admin.request('GET', PATHS.csrs);
  return list.items.filter((c) => parseCertificateRequest(c.spec.request).commonNames.includes(`system:node:${node}`));
}

const approved = (csr: Csr) => (csr.status?.conditions ?? []).some((c) => c.type === 'Approved');

test('--watch approves a real kubelet\'s serving renewal; its client renewal is left to the cluster', { skip, timeout: 300_000 }, async () => {
  const hostBefore = await hostState();
  const cp = await bed.ready();
  kubelet = await startRealKubelet(cp, { name: 'rk-renew', addresses: ['10.40.3.10'] });
  const nodesFile = join(bed.dir, 'nodes');
  writeFileSync(nodesFile, 'rk-renew 10.40.3.10 rk-renew\n');
  let clientRenewal: Csr | undefined;
  const service = startCli(['--kubeconfig', cp.writeKubeconfig('action'), '--watch', '--nodes-file', nodesFile, '--poll-interval', '2s'], { home: bed.dir, timeoutMs: Infinity });
  try {
    const first = await until(() => kubelet!.servingCertificate(), { message: 'rk-renew serves its first certificate', timeoutMs: 60_000, intervalMs: 250 });
    // Serving: the first request and a renewal, both approved by the service and issued.
    const serving = await until(async () => {
      const all = (await csrsOf('rk-renew')).filter((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving');
      return all.length >= 2 && all.every((c) => approved(c) && c.status?.certificate) ? all : undefined;
    }, { message: 'a serving renewal approved and issued', timeoutMs: 150_000, intervalMs: 500 });
    const out = service.stdoutSoFar() + service.stderrSoFar();
    for (const csr of serving) assert.match(out, new RegExp(`approved serving CSR ${csr.metadata.name} for rk-renew`));
    const renewed = await until(async () => {
      const cert = await kubelet!.servingCertificate();
      return cert && cert.serialNumber !== first.serialNumber ? cert : undefined;
    }, { message: 'rk-renew serves the renewed certificate', timeoutMs: 30_000, intervalMs: 250 });
    assert.equal(renewed.subjectAltName, 'DNS:rk-renew, IP Address:10.40.3.10');
    // Client: the renewal comes from the node itself; the service leaves it alone.
    clientRenewal = await until(async () => (await csrsOf('rk-renew')).find((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && c.spec.username === 'system:node:rk-renew'), {
      message: 'rk-renew filed a client renewal', timeoutMs: 150_000, intervalMs: 500,
    });
    console.log(`# real kubelet ${cp.version}: serving renewed by --watch (${serving.map((c) => c.metadata.name).join(', ')}); client renewal ${clientRenewal.metadata.name} left Pending`);
  } finally {
    service.child.kill('SIGTERM');
  }
  const run = await service.done;
  // By the service's end it had seen the client renewal for a while: neither approved nor reported.
  const current: Csr = await bed.cp.admin.request('GET', `${PATHS.csrs}/${clientRenewal.metadata.name}`);
  assert.ok(!approved(current), 'the client renewal is not approved by the service');
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(clientRenewal.metadata.name), 'nor reported');
  await kubelet.remove();
  assert.deepEqual(await hostState(), hostBefore);
});
