// The renewal service (--watch) telling the truth about itself, on the real API server under the
// role of deploy/rbac.yaml: /healthz turns 503 when the approvals the policy allows keep failing
// (the role loses the approve verb mid-run) and 200 again once they go through; the per-node
// client cap holds after the cluster deletes the approved CSRs; a nodes file that does not parse
// is warned about once, and one rewritten in place is never taken half-written.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { until, untilObserved } from '../env/until.ts';
import { nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { scrapeMetrics, sharedControlPlane, startWatchService, type WatchService } from './harness.ts';

const bed = sharedControlPlane();
const ROLE = objectPath('/apis/rbac.authorization.k8s.io/v1/clusterroles', 'openshift-finish-install');
const POLL_S = 2;

type Service = WatchService;

async function startService(name: string, nodes: string, extra: string[] = []): Promise<Service & { nodesFile: string }> {
  const nodesFile = join(bed.dir, `${name}-nodes`);
  writeFileSync(nodesFile, nodes);
  const kubeconfig = join(bed.dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, bed.cp.kubeconfig('action'), { mode: 0o600 });
  const service = await startWatchService({ kubeconfig, nodesFile, home: bed.dir, pollSeconds: POLL_S, extra });
  await untilObserved(service.stderr, (text) => text.includes('listed machines until stopped'), { message: 'the service started approving', timeoutMs: 20_000 });
  return Object.assign(service, { nodesFile });
}

async function scrape(service: Service): Promise<Map<string, number>> {
  return (await scrapeMetrics(service)).samples;
}

const health = async (service: Service) => {
  const response = await fetch(service.healthUrl);
  return { status: response.status, text: await response.text() };
};

/** Resolves after the service has listed the CSRs `times` more times (its own clock, observed). */
async function relisted(service: Service, times: number): Promise<void> {
  const key = 'openshift_finish_install_last_list_success_timestamp_seconds{resource="certificatesigningrequests"}';
  let last = (await scrape(service)).get(key) ?? 0;
  for (let i = 0; i < times; i++) {
    const seen = last;
    last = (await untilObserved(() => scrape(service), (m) => (m.get(key) ?? 0) > seen, { message: 'a re-list of the CSRs', timeoutMs: 30_000, intervalMs: 200 })).get(key)!;
  }
}

async function approved(name: string): Promise<boolean> {
  const csr = await bed.cp.admin.request('GET', objectPath(PATHS.csrs, name));
  return (csr.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Approved');
}

const count = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line)).length;

test('/healthz turns 503 when the role loses the approve verb mid-run, and 200 once it is restored and the renewal approved; failures counted by status, logged once', { timeout: 240_000 }, async () => {
  const sim = await bed.install({ workers: [{ name: 'h-worker-0', addresses: ['10.4.11.10'] }] });
  const service = await startService('health', 'h-worker-0 10.4.11.10\n', ['--approval-failure-grace', '6s']);
  await sim.whenReady(['h-worker-0']);
  await untilObserved(() => health(service), (h) => h.status === 200, { message: '/healthz 200', timeoutMs: 30_000, intervalMs: 200 });

  // The role loses the approve verb on the kubelet signers (kubectl edit clusterrole, a GitOps sync).
  const role = await bed.cp.admin.request('GET', ROLE);
  const { resourceVersion: _rv, ...metadata } = role.metadata;
  const restored = { ...role, metadata };
  const revoked = { ...restored, rules: role.rules.filter((r: { resources: string[] }) => !r.resources.includes('signers')) };
  assert.equal(revoked.rules.length, role.rules.length - 1);
  await bed.cp.admin.request('PUT', ROLE, { body: revoked });
  let renewal = '';
  try {
    renewal = await sim.adversary.file('renewal', {
      identity: nodeIdentity('h-worker-0'),
      signerName: SIGNER.kubeletServing,
      usages: USAGES.serving,
      spec: { commonName: 'system:node:h-worker-0', organizations: ['system:nodes'], dnsNames: ['h-worker-0'], ipAddresses: ['10.4.11.10'] },
    });
    const failing = await untilObserved(() => health(service), (h) => h.status === 503, { message: '/healthz 503 while approvals fail', timeoutMs: 60_000, intervalMs: 200 });
    assert.match(failing.text, /^approvals failing for more than 6 s: serving CSR of h-worker-0 for \d+ s \(HTTP 403 Forbidden, \d+ attempts\)\n$/);
    const metrics = await scrape(service);
    assert.ok((metrics.get('openshift_finish_install_approval_failures_total{code="403"}') ?? 0) >= 2, JSON.stringify([...metrics]));
    assert.equal(metrics.get('openshift_finish_install_failing_approvals'), 1);
    assert.equal(metrics.get('openshift_finish_install_healthy'), 0);
    assert.equal(await approved(renewal), false);
  } finally {
    await bed.cp.admin.request('PUT', ROLE, { body: restored });
  }
  await until(() => approved(renewal), { message: 'the renewal approved once the role is restored', timeoutMs: 60_000, intervalMs: 200 });
  await untilObserved(() => health(service), (h) => h.status === 200, { message: '/healthz 200 again', timeoutMs: 30_000, intervalMs: 200 });
  const log = service.stderr();
  assert.equal(count(log, new RegExp(`could not approve serving CSR ${renewal} `)), 1, `one warning for the streak:\n${log}`);
  assert.equal(count(log, new RegExp(`approved serving CSR ${renewal} for h-worker-0 after \\d+ failed attempts over [\\d.]+ s \\(last: HTTP 403 Forbidden\\)`)), 1, log);
  assert.equal((await scrape(service)).get('openshift_finish_install_failing_approvals'), 0);
  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
});

test('the client cap lasts: the cluster deletes the six approved CSRs of a listed name without a Node, and the seventh stays pending (too-many-client-requests)', { timeout: 180_000 }, async () => {
  const sim = await bed.install({ workers: [] });
  const service = await startService('cap', 'c-worker-0\n');
  const six: string[] = [];
  for (let i = 0; i < 6; i++) six.push(await sim.adversary.clientForExistingNode('c-worker-0'));
  for (const name of six) await until(() => approved(name), { message: `${name} approved`, timeoutMs: 30_000, intervalMs: 200 });
  // The cluster's garbage collection (an hour after approval on a real cluster).
  for (const name of six) await bed.cp.admin.request('DELETE', objectPath(PATHS.csrs, name));
  await relisted(service, 1);
  const seventh = await sim.adversary.clientForExistingNode('c-worker-0');
  await untilObserved(service.stderr, (log) => new RegExp(`refused client CSR ${seventh} for c-worker-0: too-many-client-requests`).test(log), { message: 'the seventh refused by the cap', timeoutMs: 30_000 });
  await relisted(service, 2);
  assert.equal(await approved(seventh), false, 'still pending after re-lists');
  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
});

test('nodes file: a content that does not parse is warned about once; one rewritten in place is never taken half-written', { timeout: 180_000 }, async () => {
  const service = await startService('file', 'n-worker-0 10.4.12.10\nn-worker-1 10.4.12.11\n');
  writeFileSync(service.nodesFile, 'n-worker-0 10.4.12.10\nn-worker-1 not-an-address!\n');
  await untilObserved(service.stderr, (log) => log.includes('ignoring the changed nodes file'), { message: 'the warning', timeoutMs: 20_000 });
  await relisted(service, 3); // several seconds of readings, once a second
  assert.equal(count(service.stderr(), /ignoring the changed nodes file/), 1, service.stderr());

  // Rewritten in place by a slow writer: the first line (a list that parses, without n-worker-1)
  // stays for a moment before the rest is written.
  writeFileSync(service.nodesFile, 'n-worker-0 10.4.12.10\n');
  await new Promise((r) => setTimeout(r, 1500)); // the writer's pace, not a wait for the service
  writeFileSync(service.nodesFile, 'n-worker-0 10.4.12.10\nn-worker-1 10.4.12.11\nn-worker-2 10.4.12.12\n');
  await untilObserved(service.stderr, (log) => log.includes('inventory now lists n-worker-0, n-worker-1, n-worker-2'), { message: 'the full list taken', timeoutMs: 20_000 });
  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stderr.split('\n').filter((l) => l.includes('inventory now lists')).map((l) => l.slice(l.indexOf('inventory'))), ['inventory now lists n-worker-0, n-worker-1, n-worker-2']);
  assert.equal(count(run.stderr, /ignoring the changed nodes file/), 1);
});
