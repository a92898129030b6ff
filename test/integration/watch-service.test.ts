// The renewal service as a monitored service: --metrics-address (Prometheus text, /healthz) and
// credentials that rotate under it. The identity is the action's ServiceAccount with tokens from
// the TokenRequest API, each bound to a Secret: deleting the Secret revokes that token (the test
// control plane's static token file is not reloaded by kube-apiserver, so it cannot revoke).
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { until, untilObserved } from '../env/until.ts';
import { nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { scrapeMetrics, sharedControlPlane, startWatchService, type WatchService } from './harness.ts';

const NS = 'openshift-finish-install';
const SA = 'openshift-finish-install';
const bed = sharedControlPlane();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A token of the action's ServiceAccount, bound to a new Secret `name` (deleting it revokes the token). */
async function boundToken(name: string): Promise<string> {
  await bed.cp.admin.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque' });
  const secret = await bed.cp.admin.request('GET', `/api/v1/namespaces/${NS}/secrets/${name}`);
  const request = await bed.cp.admin.request('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name, uid: secret.metadata.uid } } },
  });
  return request.status.token as string;
}

async function revoke(secret: string, token: string): Promise<void> {
  await bed.cp.admin.request('DELETE', `/api/v1/namespaces/${NS}/secrets/${secret}`);
  const holder = bed.cp.admin.withIdentity(token);
  await untilObserved(() => holder.requestRaw('GET', PATHS.nodes), (r) => r.status === 401, { message: `the token bound to ${secret} refused`, timeoutMs: 30_000 });
}

/** Replaces a file in one step, as a credential rotator does. */
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

function kubeconfig(name: string, user: string[]): string {
  const file = join(bed.dir, `${name}.yaml`);
  const server = new URL(bed.cp.url);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server.origin}", certificate-authority-data: ${Buffer.from(bed.cp.caPem).toString('base64')}}}]`,
      'users:',
      '- name: u',
      '  user:',
      ...user.map((line) => `    ${line}`),
      'contexts: [{name: ctx, context: {cluster: c, user: u}}]',
      'current-context: ctx',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

type Service = WatchService;

const startService = (kubeconfigFile: string, nodesFile: string): Promise<Service> => startWatchService({ kubeconfig: kubeconfigFile, nodesFile, home: bed.dir, pollSeconds: 2 });

/** The samples of the service's Prometheus text, by name with labels as written. */
async function scrape(service: Service): Promise<Map<string, number>> {
  const { samples, status, contentType } = await scrapeMetrics(service);
  assert.equal(status, 200);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  return samples;
}

const health = async (service: Service) => {
  const response = await fetch(service.healthUrl);
  return { status: response.status, text: await response.text() };
};

/** Polls /healthz until it answers `status`; fails with the last answer. */
const healthz = (service: Service, status: number, message: string, timeoutMs = 60_000) =>
  untilObserved(() => health(service), (h) => h.status === status, { message, timeoutMs, intervalMs: 200 });

const CLIENT_APPROVALS = 'openshift_finish_install_approvals_total{phase="client"}';
const SERVING_APPROVALS = 'openshift_finish_install_approvals_total{phase="serving"}';

async function approved(name: string): Promise<boolean> {
  const csr = await bed.cp.admin.request('GET', objectPath(PATHS.csrs, name));
  return (csr.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Approved');
}

test('--metrics-address: counts, pending, last lists, restarts, RSS, event-loop delay; /healthz; a tokenFile rotated and the old token revoked mid-run', { timeout: 300_000 }, async () => {
  const sim = await bed.install({ workers: [{ name: 'm-worker-0', addresses: ['10.4.9.10'] }, { name: 'm-worker-1', addresses: ['10.4.9.11'], startAfterMs: 60_000_000 }] });
  const tokenFile = join(bed.dir, 'token');
  const first = await boundToken('ofi-token-first');
  writeFileSync(tokenFile, `${first}\n`, { mode: 0o600 });
  const nodesFile = join(bed.dir, 'nodes');
  writeFileSync(nodesFile, 'm-worker-0 10.4.9.10\n');
  const service = await startService(kubeconfig('token-file', [`tokenFile: ${tokenFile}`]), nodesFile);

  await healthz(service, 200, '/healthz 200');
  await sim.whenReady(['m-worker-0']);
  let metrics = await untilObserved(() => scrape(service), (m) => m.get(CLIENT_APPROVALS) === 1 && m.get(SERVING_APPROVALS) === 1, { message: 'both approvals counted', timeoutMs: 60_000, intervalMs: 200 });
  for (const resource of ['certificatesigningrequests', 'nodes']) {
    const at = metrics.get(`openshift_finish_install_last_list_success_timestamp_seconds{resource="${resource}"}`)!;
    assert.ok(Math.abs(Date.now() / 1000 - at) < 10, `${resource} listed within the last poll intervals (${at})`);
    assert.equal(metrics.get(`openshift_finish_install_informer_synced{resource="${resource}"}`), 1);
  }
  assert.ok(metrics.get('process_resident_memory_bytes')! > 10_000_000);
  assert.ok(metrics.has('nodejs_eventloop_lag_p99_seconds') && metrics.get('nodejs_eventloop_lag_p99_seconds')! < 1);

  // A serving renewal naming an address the machine was not declared with: refused, still pending.
  const forged = await sim.adversary.file('renewal', {
    identity: nodeIdentity('m-worker-0'),
    signerName: SIGNER.kubeletServing,
    usages: USAGES.serving,
    spec: { commonName: 'system:node:m-worker-0', organizations: ['system:nodes'], dnsNames: ['m-worker-0'], ipAddresses: ['10.4.9.99'] },
  });
  metrics = await untilObserved(() => scrape(service), (m) => [...m.keys()].some((k) => k.startsWith('openshift_finish_install_refusals_total')), { message: 'the refusal counted', timeoutMs: 60_000, intervalMs: 200 });
  const refusalKey = [...metrics.keys()].find((k) => k.startsWith('openshift_finish_install_refusals_total'))!;
  assert.equal(metrics.get(refusalKey), 1, refusalKey);
  assert.equal(metrics.get('openshift_finish_install_pending_csrs'), 1, 'the refused renewal of a listed machine is pending');
  await sleep(3 * 2000); // three re-lists decide it again
  metrics = await scrape(service);
  assert.equal(metrics.get(refusalKey), 1, 'counted once per CSR, however often it is decided');
  assert.match(service.stderr(), new RegExp(`refused serving CSR ${forged}`));

  // Rotation: a new token in the file, the old one revoked. The service keeps working, well
  // within the minute after which it would read the file anyway: the 401 makes it read it at once.
  const second = await boundToken('ofi-token-second');
  writeAtomically(tokenFile, `${second}\n`);
  await revoke('ofi-token-first', first);
  const revokedAt = Date.now();
  appendFileSync(nodesFile, 'm-worker-1 10.4.9.11\n');
  await untilObserved(service.stderr, (log) => log.includes('inventory now lists m-worker-0, m-worker-1'), { message: 'the service read the nodes file again', timeoutMs: 10_000 });
  void sim.kubelet('m-worker-1').start();
  await sim.whenReady(['m-worker-1']);
  assert.ok(Date.now() - revokedAt < 55_000, 'recovered by the 401, not by the periodic re-read');
  metrics = await scrape(service);
  assert.equal(metrics.get(CLIENT_APPROVALS), 2);
  assert.equal((await health(service)).status, 200);

  // Watches that end are counted as restarts.
  const restarts = (m: Map<string, number>) => m.get('openshift_finish_install_watch_restarts_total{resource="certificatesigningrequests"}') ?? 0;
  const restartsBefore = restarts(metrics);
  await bed.cp.restartApiServer();
  await untilObserved(() => scrape(service), (m) => restarts(m) > restartsBefore, { message: 'a watch restart counted', timeoutMs: 60_000, intervalMs: 200 });
  await healthz(service, 200, '/healthz 200 after the restart');

  // etcd stalls: no list succeeds and no event arrives; after three poll intervals /healthz fails.
  bed.cp.pauseEtcd();
  let failing: { status: number; text: string };
  try {
    failing = await healthz(service, 503, '/healthz 503 while etcd is stopped', 30_000);
  } finally {
    bed.cp.resumeEtcd();
  }
  assert.match(failing.text, /no successful list or watch event for more than 6 s/);
  await healthz(service, 200, '/healthz 200 once etcd is back');

  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /could not approve/);
  assert.ok(!run.stderr.includes(second) && !run.stderr.includes(first), 'tokens never printed');
});

test('an exec credential plugin is run again when the server refuses its token (401), without a restart', { timeout: 180_000 }, async () => {
  const sim = await bed.install({ workers: [{ name: 'e-worker-0', addresses: ['10.4.9.20'] }] });
  const tokenFile = join(bed.dir, 'exec-token');
  const first = await boundToken('ofi-exec-first');
  writeFileSync(tokenFile, first, { mode: 0o600 });
  const runs = join(bed.dir, 'exec-runs');
  writeFileSync(runs, '');
  const plugin = join(bed.dir, 'credential-plugin.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> '${runs}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat '${tokenFile}')"\n`,
  );
  chmodSync(plugin, 0o755);
  const nodesFile = join(bed.dir, 'exec-nodes');
  writeFileSync(nodesFile, 'e-worker-0 10.4.9.20\n');
  const service = await startService(kubeconfig('exec', ['exec:', '  apiVersion: client.authentication.k8s.io/v1', `  command: ${plugin}`, '  interactiveMode: Never']), nodesFile);
  await sim.whenReady(['e-worker-0']);
  const runsBefore = readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
  assert.equal(runsBefore, 1, 'a credential without expiry is kept until refused');

  const second = await boundToken('ofi-exec-second');
  writeAtomically(tokenFile, second);
  await revoke('ofi-exec-first', first);
  // A serving renewal with the machine's own address: approved with the new token.
  const renewal = await sim.adversary.file('renewal', {
    identity: nodeIdentity('e-worker-0'),
    signerName: SIGNER.kubeletServing,
    usages: USAGES.serving,
    spec: { commonName: 'system:node:e-worker-0', organizations: ['system:nodes'], dnsNames: ['e-worker-0'], ipAddresses: ['10.4.9.20'] },
  });
  await until(() => approved(renewal), { message: 'the renewal approved after the rotation', timeoutMs: 30_000, intervalMs: 200 });
  assert.ok(readFileSync(runs, 'utf8').split('\n').filter(Boolean).length >= 2, 'the plugin ran again');
  assert.equal((await health(service)).status, 200);
  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
});
