// The renewal service as a monitored service: --metrics-address (Prometheus text, /healthz) and
// credentials that rotate under it. The identity is the action's ServiceAccount with tokens from
// the TokenRequest API, each bound to a Secret: deleting the Secret revokes that token (the test
// control plane's static token file is not reloaded by kube-apiserver, so it cannot revoke).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { startInstall, type SimulatedInstall } from '../sim/install.ts';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const NS = 'openshift-finish-install';
const SA = 'openshift-finish-install';
let cp: ControlPlane;
let dir: string;
const installs: SimulatedInstall[] = [];
/** Services a failed test left running. */
const children: Array<{ kill(): void }> = [];
before(async () => {
  cp = await startControlPlane();
  dir = mkdtempSync(join(tmpdir(), 'ofi-service-'));
});
after(async () => {
  for (const child of children) child.kill();
  await Promise.all(installs.map((i) => i.stop()));
  await cp?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A token of the action's ServiceAccount, bound to a new Secret `name` (deleting it revokes the token). */
async function boundToken(name: string): Promise<string> {
  await cp.admin.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque' });
  const secret = await cp.admin.request('GET', `/api/v1/namespaces/${NS}/secrets/${name}`);
  const request = await cp.admin.request('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name, uid: secret.metadata.uid } } },
  });
  return request.status.token as string;
}

async function revoke(secret: string, token: string): Promise<void> {
  await cp.admin.request('DELETE', `/api/v1/namespaces/${NS}/secrets/${secret}`);
  const holder = cp.admin.withIdentity(token);
  for (let i = 0; i < 300; i++) {
    if ((await holder.requestRaw('GET', '/api/v1/nodes')).status === 401) return;
    await sleep(100);
  }
  throw new Error(`the token bound to ${secret} is still accepted`);
}

/** Replaces a file in one step, as a credential rotator does. */
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

function kubeconfig(name: string, user: string[]): string {
  const file = join(dir, `${name}.yaml`);
  const server = new URL(cp.url);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server.origin}", certificate-authority-data: ${Buffer.from(cp.caPem).toString('base64')}}}]`,
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

interface Service {
  metricsUrl: string;
  healthUrl: string;
  stderr(): string;
  stop(): Promise<{ code: number | null; stderr: string }>;
}

async function startService(kubeconfigFile: string, nodesFile: string): Promise<Service> {
  const child = spawn(process.execPath, [CLI, '--kubeconfig', kubeconfigFile, '--watch', '--nodes-file', nodesFile, '--poll-interval', '2s', '--metrics-address', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH ?? '', HOME: dir },
  });
  children.push({ kill: () => child.kill('SIGKILL') });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdout.resume();
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let address: string | undefined;
  for (let i = 0; i < 100 && !address; i++) {
    address = /metrics at http:\/\/([^/\s]+)\/metrics/.exec(stderr)?.[1];
    if (!address) await sleep(100);
  }
  if (!address) throw new Error(`no metrics address in:\n${stderr}`);
  return {
    metricsUrl: `http://${address}/metrics`,
    healthUrl: `http://${address}/healthz`,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      return { code: await closed, stderr };
    },
  };
}

/** The samples of a Prometheus text, by name with labels as written. */
async function scrape(service: Service): Promise<Map<string, number>> {
  const response = await fetch(service.metricsUrl);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const health = async (service: Service) => {
  const response = await fetch(service.healthUrl);
  return { status: response.status, text: await response.text() };
};

async function approved(name: string): Promise<boolean> {
  const csr = await cp.admin.request('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`);
  return (csr.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Approved');
}

test('--metrics-address: counts, pending, last lists, restarts, RSS, event-loop delay; /healthz; a tokenFile rotated and the old token revoked mid-run', { timeout: 300_000 }, async () => {
  const sim = await startInstall(cp, { controlPlaneNodes: 0, registry: false, workers: [{ name: 'm-worker-0', addresses: ['10.4.9.10'] }, { name: 'm-worker-1', addresses: ['10.4.9.11'], startAfterMs: 60_000_000 }] });
  installs.push(sim);
  const tokenFile = join(dir, 'token');
  const first = await boundToken('ofi-token-first');
  writeFileSync(tokenFile, `${first}\n`, { mode: 0o600 });
  const nodesFile = join(dir, 'nodes');
  writeFileSync(nodesFile, 'm-worker-0 10.4.9.10\n');
  const service = await startService(kubeconfig('token-file', [`tokenFile: ${tokenFile}`]), nodesFile);

  await until('/healthz 200', async () => (await health(service)).status === 200);
  await sim.whenReady(['m-worker-0']);
  let metrics = await until('both approvals counted', async () => {
    const m = await scrape(service);
    return m.get('openshift_finish_install_approvals_total{phase="client"}') === 1 && m.get('openshift_finish_install_approvals_total{phase="serving"}') === 1 && m;
  });
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
  metrics = await until('the refusal counted', async () => {
    const m = await scrape(service);
    return [...m.keys()].some((k) => k.startsWith('openshift_finish_install_refusals_total')) && m;
  });
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
  await sleep(1500);
  void sim.kubelet('m-worker-1').start();
  await sim.whenReady(['m-worker-1']);
  assert.ok(Date.now() - revokedAt < 55_000, 'recovered by the 401, not by the periodic re-read');
  metrics = await scrape(service);
  assert.equal(metrics.get('openshift_finish_install_approvals_total{phase="client"}'), 2);
  assert.equal((await health(service)).status, 200);

  // Watches that end are counted as restarts.
  const restarts = () => metrics.get('openshift_finish_install_watch_restarts_total{resource="certificatesigningrequests"}') ?? 0;
  const restartsBefore = restarts();
  await cp.restartApiServer();
  metrics = await until('a watch restart counted', async () => {
    const m = await scrape(service);
    return (m.get('openshift_finish_install_watch_restarts_total{resource="certificatesigningrequests"}') ?? 0) > restartsBefore && m;
  });
  await until('/healthz 200 after the restart', async () => (await health(service)).status === 200);

  // etcd stalls: no list succeeds and no event arrives; after three poll intervals /healthz fails.
  cp.pauseEtcd();
  let failing: { status: number; text: string };
  try {
    failing = await until('/healthz 503', async () => {
      const h = await health(service);
      return h.status === 503 && h;
    }, 30_000);
  } finally {
    cp.resumeEtcd();
  }
  assert.match(failing.text, /no successful list or watch event for more than 6 s/);
  await until('/healthz 200 once etcd is back', async () => (await health(service)).status === 200, 60_000);

  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /could not approve/);
  assert.ok(!run.stderr.includes(second) && !run.stderr.includes(first), 'tokens never printed');
});

test('an exec credential plugin is run again when the server refuses its token (401), without a restart', { timeout: 180_000 }, async () => {
  const sim = await startInstall(cp, { controlPlaneNodes: 0, registry: false, workers: [{ name: 'e-worker-0', addresses: ['10.4.9.20'] }] });
  installs.push(sim);
  const tokenFile = join(dir, 'exec-token');
  const first = await boundToken('ofi-exec-first');
  writeFileSync(tokenFile, first, { mode: 0o600 });
  const runs = join(dir, 'exec-runs');
  writeFileSync(runs, '');
  const plugin = join(dir, 'credential-plugin.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> '${runs}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat '${tokenFile}')"\n`,
  );
  chmodSync(plugin, 0o755);
  const nodesFile = join(dir, 'exec-nodes');
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
  await until('the renewal approved after the rotation', () => approved(renewal), 30_000);
  assert.ok(readFileSync(runs, 'utf8').split('\n').filter(Boolean).length >= 2, 'the plugin ran again');
  assert.equal((await health(service)).status, 200);
  const run = await service.stop();
  assert.equal(run.code, 0, run.stderr);
});
