// A real control plane on loopback for the integration tests, the demo and the benchmark: etcd,
// kube-apiserver with token authentication, the Node authorizer, RBAC and NodeRestriction (as
// OpenShift runs it), and kube-controller-manager running only the CSR signer. Kubernetes 1.34 by
// default, 1.29 with OFI_KUBE_LEG=oldest (ensure.ts). OpenShift's own CRDs are installed unchanged
// (openshift-crds.ts), the action's RBAC from deploy/rbac.yaml.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { createClient, destroyClient, KubeApiError, type KubeClient } from './client.ts';
import { currentLeg, ensureBinaries, type Binaries, type Leg } from './ensure.ts';
import { openshiftCrds, type Crd } from './openshift-crds.ts';

export interface Identity { token: string; user: string; groups: string[] }

export interface ControlPlane {
  url: string;
  caPem: string;
  admin: KubeClient;
  action: KubeClient;
  actionToken: string;
  adminToken: string;
  /** A token of the node-bootstrapper service account, for real kubelets' bootstrap kubeconfigs (kubelet.ts). */
  bootstrapToken: string;
  /** The CSR signer's CA: it issues kubelet certificates, and the API server trusts it for client certificates. */
  signerCaPem: string;
  /** Temp dir holding certificates, kubeconfigs, etcd data and the logs (etcd.log, kube-apiserver.log, kube-controller-manager.log). */
  dir: string;
  /** The Kubernetes version the API server reports (`/version` gitVersion), and the leg it belongs to. */
  version: string;
  leg: Leg;
  /** Milliseconds spent in startControlPlane(): etcd healthy, API server ready, everything installed. */
  timings: { etcd: number; apiServer: number; total: number };
  kubeconfig(who: 'admin' | 'action'): string;
  writeKubeconfig(who: 'admin' | 'action'): string;
  restartApiServer(): Promise<void>;
  /** SIGSTOP etcd (a stalled disk or a paused VM): the API server's requests hang until resumeEtcd(). */
  pauseEtcd(): void;
  resumeEtcd(): void;
  /** Stops etcd and starts it again on the same data and port (the API server reconnects). */
  restartEtcd(): Promise<void>;
  stopSigner(): Promise<void>;
  startSigner(): Promise<void>;
  metrics(): Promise<string>;
  /**
   * Mutating requests the API server has served so far (all users), less access reviews (nothing
   * is stored) and Leases (the API server renews its own identity Lease every 10 s since 1.26).
   */
  writes(): Promise<number>;
  stop(): Promise<void>;
}

export const ACTION_USER = 'system:serviceaccount:openshift-finish-install:openshift-finish-install';
const ACTION_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:openshift-finish-install', 'system:authenticated'];

/** The identity a kubelet bootstraps with (DOMAIN 2): impersonate it to create client CSRs. */
export const NODE_BOOTSTRAPPER = {
  user: 'system:serviceaccount:openshift-machine-config-operator:node-bootstrapper',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator', 'system:authenticated'],
};

// `default` and `kube-system` too: the API server creates them a moment after it is ready, and
// deploy/rbac.yaml has a Role in each (creating them first, or finding them, removes that race).
const NAMESPACES = ['default', 'kube-system', 'openshift-image-registry', 'openshift-machine-config-operator', 'openshift-finish-install'];
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
// On SIGTERM, the API server stops listening and finishes short requests at once, but then waits for open
// watches to end on their own (up to a minute): cut them off as a crashing or killed server would.
const APISERVER_GRACE_MS = 2_000;
const REPO_DIR = new URL('../../', import.meta.url);

const run = promisify(execFile);

interface Proc { name: string; child: ChildProcess; exited: Promise<void>; log: string }

const live = new Set<{ killNow(): void; stop(): Promise<void> }>();

export interface ControlPlaneOptions {
  /** extra kube-apiserver flags (e.g. an audit log) */
  apiServerArgs?: string[];
  /** false: no kube-controller-manager (CSRs are never signed until startSigner()) */
  signer?: boolean;
  /** extra kube-controller-manager flags (e.g. --kube-api-qps, whose default of 20 caps signing) */
  signerArgs?: string[];
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const leg = currentLeg();
  const [bins, dir, [etcdPort, peerPort, apiPort]] = await Promise.all([
    ensureBinaries(leg),
    mkdtemp(join(tmpdir(), 'ofi-controlplane-')),
    freePorts(3),
  ]);
  if (etcdPort === undefined || peerPort === undefined || apiPort === undefined) throw new Error('no free ports');
  installExitHandlers();

  const procs: { etcd?: Proc; apiserver?: Proc; signer?: Proc } = {};
  let admin: KubeClient | undefined;
  let stopping: Promise<void> | undefined;
  const handle = {
    killNow() {
      for (const p of Object.values(procs)) if (p) killGroup(p, 'SIGKILL');
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // a dying child may still be writing; the watchdog removes the dir a second later
      }
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        live.delete(handle);
        await Promise.all([terminate(procs.signer), terminate(procs.apiserver, APISERVER_GRACE_MS)]);
        await terminate(procs.etcd);
        if (admin) destroyClient(admin);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  live.add(handle);

  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcdArgs = [
      '--name=ofi', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=ofi=http://127.0.0.1:${peerPort}`,
      // A single member elects itself after one election timeout (default 1 s): shorten it.
      '--heartbeat-interval=10', '--election-timeout=100',
      '--logger=zap', '--log-outputs=stderr', '--log-level=warn',
      ...(await etcdSupportsNoFsync(bins) ? ['--unsafe-no-fsync'] : []),
    ];
    const startEtcd = async () => {
      procs.etcd = launch('etcd', bins.etcd, etcdArgs, join(dir, 'etcd.log'));
      await waitFor(procs.etcd, () => etcdHealthy(etcdUrl));
    };
    const etcdStarted = startEtcd();

    const adminId: Identity = { token: randomToken(), user: 'admin', groups: ['system:masters'] };
    const actionId: Identity = { token: randomToken(), user: ACTION_USER, groups: ACTION_GROUPS };
    const bootstrapId: Identity = { token: randomToken(), ...NODE_BOOTSTRAPPER };
    const [pki] = await Promise.all([
      makePki(dir),
      writeFile(join(dir, 'tokens.csv'), [adminId, actionId, bootstrapId].map((id, i) => `${id.token},${id.user},uid-${i},"${id.groups.join(',')}"\n`).join(''), { mode: 0o600 }),
      etcdStarted,
    ]);
    const tEtcd = Date.now();

    const url = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'pki')}`,
      `--tls-cert-file=${pki.servingCert}`, `--tls-private-key-file=${pki.servingKey}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      // Client certificates the CSR signer issues authenticate, as on a cluster (real kubelets).
      `--client-ca-file=${pki.signerCert}`,
      // As OpenShift: nodes are authorized by the Node authorizer (no RBAC binding for
      // system:nodes), and NodeRestriction limits each to its own Node and, since 1.31, to kubelet
      // CSRs for its own name.
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      // The default reconciler publishes the advertise address as the `kubernetes` endpoint,
      // which is refused for loopback addresses (error every 10 s in the log).
      '--endpoint-reconciler-type=none',
      // No ServiceAccount controller runs, so that admission plugin would refuse pods for want of
      // a default ServiceAccount. CertificateApproval/Signing/SubjectRestriction stay on (default):
      // they are what makes the approval checks real.
      '--disable-admission-plugins=ServiceAccount',
      '--profiling=false',
      ...(opts.apiServerArgs ?? []),
    ];
    admin = createClient(url, pki.caPem, adminId.token);
    const adminClient = admin;
    const startApiServer = async () => {
      procs.apiserver = launch('kube-apiserver', bins.apiserver, apiserverArgs, join(dir, 'kube-apiserver.log'));
      await waitFor(procs.apiserver, async () => (await adminClient.requestRaw('GET', '/readyz')).status === 200);
    };
    await startApiServer();
    const tApi = Date.now();

    const action = admin.withIdentity(actionId.token);
    const kubeconfig = (who: 'admin' | 'action') => kubeconfigYaml(url, pki.caPem, who, who === 'admin' ? adminId.token : actionId.token);
    const writeKubeconfig = (who: 'admin' | 'action') => {
      const file = join(dir, `kubeconfig-${who}.yaml`);
      writeFileSync(file, kubeconfig(who), { mode: 0o600 });
      return file;
    };
    const adminKubeconfig = writeKubeconfig('admin');

    const startSigner = async () => {
      if (procs.signer && running(procs.signer)) return;
      const log = join(dir, 'kube-controller-manager.log');
      const from = await textLength(log);
      procs.signer = launch('kube-controller-manager', bins.controllerManager, [
        `--kubeconfig=${adminKubeconfig}`,
        '--controllers=csrsigning',
        `--cluster-signing-cert-file=${pki.signerCert}`, `--cluster-signing-key-file=${pki.signerKey}`,
        '--leader-elect=false', '--use-service-account-credentials=false',
        '--secure-port=0',
        ...(opts.signerArgs ?? []),
      ], log);
      // No serving port to probe: the kubelet signers are ready once their caches have synced
      // ("Caches are synced" controller="certificate-csrsigning-kubelet-client", one line each).
      await waitFor(procs.signer, async () => {
        const lines = (await readFile(log, 'utf8')).slice(from).split('\n').filter((l) => l.includes('Caches are synced'));
        return ['kubelet-client', 'kubelet-serving'].every((s) => lines.some((l) => l.includes(`certificate-csrsigning-${s}"`) || l.endsWith(`certificate-csrsigning-${s}`)));
      });
    };

    await Promise.all([
      opts.signer === false ? undefined : startSigner(),
      installClusterObjects(admin, leg),
    ]);
    const version = String((await admin.request('GET', '/version')).gitVersion);

    const timings = { etcd: tEtcd - t0, apiServer: tApi - tEtcd, total: Date.now() - t0 };
    const metrics = async () => {
      const res = await adminClient.requestRaw('GET', '/metrics');
      if (res.status !== 200) throw new KubeApiError('GET', '/metrics', res.status, res.body);
      return res.body;
    };
    return {
      url, caPem: pki.caPem, version, leg, admin, action, actionToken: actionId.token, adminToken: adminId.token, dir, timings,
      bootstrapToken: bootstrapId.token, signerCaPem: await readFile(pki.signerCert, 'utf8'),
      kubeconfig, writeKubeconfig,
      async restartApiServer() {
        await terminate(procs.apiserver, APISERVER_GRACE_MS);
        await startApiServer();
      },
      pauseEtcd: () => procs.etcd && killGroup(procs.etcd, 'SIGSTOP'),
      resumeEtcd: () => procs.etcd && killGroup(procs.etcd, 'SIGCONT'),
      async restartEtcd() {
        await terminate(procs.etcd);
        await startEtcd();
      },
      stopSigner: () => terminate(procs.signer),
      startSigner,
      metrics,
      async writes() {
        return (await metrics())
          .split('\n')
          .filter((line) => line.startsWith('apiserver_request_total{') && /verb="(POST|PUT|PATCH|DELETE|APPLY)"/.test(line) && !line.includes('accessreviews') && !line.includes('resource="leases"'))
          .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      },
      stop: handle.stop,
    };
  } catch (e) {
    await handle.stop();
    throw e;
  }
}

async function installClusterObjects(admin: KubeClient, leg: Leg): Promise<void> {
  const crds = await openshiftCrds(leg);
  await Promise.all([
    ...crds.map((crd) => admin.apply(crd)),
    ...NAMESPACES.map((name) => admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  ]);

  const rbac = (await loadYaml(new URL('deploy/rbac.yaml', REPO_DIR)))
    .filter((doc) => !(doc.kind === 'Namespace' && NAMESPACES.includes(doc.metadata?.name)));
  await Promise.all([
    ...rbac.map((doc) => admin.apply(doc)),
    // What an OpenShift cluster binds for the bootstrap credential (nodes need nothing: the Node
    // authorizer lets them create CSRs).
    admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'ofi-test:node-bootstrapper' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NODE_BOOTSTRAPPER.user },
      ],
    }),
    ...crds.map((crd) => waitEstablished(admin, crd)),
  ]);
}

async function waitEstablished(admin: KubeClient, crd: Crd): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const list = `/apis/${crd.spec.group}/${crd.spec.versions[0]?.name}/${crd.spec.names.plural}`;
  for (;;) {
    const got = await admin.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    const established = (got.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
    // Established can precede the handler serving the new resource by a moment.
    if (established && (await admin.requestRaw('GET', list)).status === 200) return;
    if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established within ${READY_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

async function loadYaml(url: URL): Promise<any[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const docs = parseAllDocuments(await readFile(url, 'utf8'));
  return docs.map((d) => d.toJS()).filter((d) => d && typeof d === 'object');
}

interface Pki { caPem: string; servingCert: string; servingKey: string; saKey: string; saPub: string; signerCert: string; signerKey: string }

async function makePki(dir: string): Promise<Pki> {
  const pki = join(dir, 'pki');
  const p = (name: string) => join(pki, name);
  await mkdir(pki, { mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, cn: string) => run('openssl', ['req', '-x509', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`),
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const serving = async () => {
    await Promise.all([
      ca('ca', 'ofi-test-serving-ca'),
      run('openssl', ['req', '-new', ...ec, '-keyout', p('apiserver.key'), '-out', p('apiserver.csr'), '-subj', '/CN=kube-apiserver']),
      writeFile(p('apiserver.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n'),
    ]);
    await run('openssl', ['x509', '-req', '-in', p('apiserver.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-extfile', p('apiserver.ext'), '-out', p('apiserver.crt')]);
  };
  const serviceAccount = async () => {
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', p('sa.key')]);
    await run('openssl', ['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  };
  await Promise.all([serving(), serviceAccount(), ca('signer', 'ofi-test-csr-signer')]);
  return {
    caPem: await readFile(p('ca.crt'), 'utf8'),
    servingCert: p('apiserver.crt'), servingKey: p('apiserver.key'),
    saKey: p('sa.key'), saPub: p('sa.pub'),
    signerCert: p('signer.crt'), signerKey: p('signer.key'),
  };
}

function kubeconfigYaml(server: string, caPem: string, who: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'ofi-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: who, user: { token } }],
    contexts: [{ name: who, context: { cluster: 'ofi-test', user: who } }],
    'current-context': who,
  });
}

// --- processes -------------------------------------------------------------------------------

function launch(name: string, bin: string, args: string[], log: string): Proc {
  const fd = openSync(log, 'a');
  // Own process group, so the whole group can be killed; the watchdog below kills it if this
  // process dies without running its exit handler (SIGKILL, crash of the test runner).
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      writeFileSync(log, `spawn ${bin}: ${e.message}\n`, { flag: 'a' });
      resolve();
    });
  });
  child.unref();
  if (child.pid) {
    const watchdog = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill -KILL "-$2" 2>/dev/null; sleep 1; rm -rf "$3"';
    spawn('sh', ['-c', watchdog, 'ofi-watchdog', String(process.pid), String(child.pid), dirname(log)], { detached: true, stdio: 'ignore' }).unref();
  }
  return { name, child, exited, log };
}

function running(p: Proc): boolean {
  return p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null;
}

function killGroup(p: Proc, signal: NodeJS.Signals): void {
  if (!running(p) || p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    // already gone
  }
}

async function terminate(p: Proc | undefined, graceMs = STOP_TIMEOUT_MS): Promise<void> {
  if (!p || !running(p)) return;
  p.child.ref(); // keep this process alive until the child is gone
  killGroup(p, 'SIGTERM');
  killGroup(p, 'SIGCONT'); // a paused process acts on SIGTERM only once resumed
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); });
  if (await Promise.race([p.exited.then(() => false), timedOut])) killGroup(p, 'SIGKILL');
  clearTimeout(timer);
  await p.exited;
}

async function waitFor(p: Proc, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = '';
  for (;;) {
    if (!running(p)) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) before it was ready\n${await tail(p.log)}`);
    try {
      if (await ready()) return;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${p.name} not ready within ${READY_TIMEOUT_MS} ms${lastError ? ` (${lastError})` : ''}\n${await tail(p.log)}`);
    await sleep(100);
  }
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return `--- last lines of ${file} ---\n${text.split('\n').slice(-lines).join('\n')}`;
}

async function textLength(file: string): Promise<number> {
  return (await readFile(file, 'utf8').catch(() => '')).length;
}

let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const cp of live) cp.killNow();
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    let received = false;
    process.on(signal, () => {
      if (received) process.exit(code);
      received = true;
      void Promise.allSettled([...live].map((cp) => cp.stop())).finally(() => process.exit(code));
    });
  }
}

// --- small helpers ---------------------------------------------------------------------------

function freePorts(n: number): Promise<number[]> {
  const one = () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  // All listeners stay open until every port is known, so the ports are distinct.
  return Promise.all(Array.from({ length: n }, one)).then(async (servers) => {
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    return ports;
  });
}

let noFsync: Promise<boolean> | undefined;

function etcdSupportsNoFsync(bins: Binaries): Promise<boolean> {
  noFsync ??= run(bins.etcd, ['--help']).then(
    ({ stdout, stderr }) => `${stdout}${stderr}`.includes('--unsafe-no-fsync'),
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`.includes('--unsafe-no-fsync'),
  );
  return noFsync;
}

function etcdHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How many control planes are started and not yet stopped (for tests of the harness itself). */
export function liveControlPlanes(): number {
  return live.size;
}
