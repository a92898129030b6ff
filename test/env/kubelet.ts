// Real machines for the integration tests, the demo and the benchmark: an unmodified kubelet of the
// control plane's Kubernetes version (ensure.ts), talking CRI to the fake runtime kubemark uses, so
// no container engine is needed. It bootstraps with the node-bootstrapper token, registers its
// Node and files its serving CSR, and serves TLS with the certificate it gets (DOMAIN 9).
//
// Addresses: the kubelet refuses a loopback --node-ip and files no serving CSR without an IP, so it
// runs with --cloud-provider=external and this module sets its Node's addresses once the Node is
// registered, as a cloud controller manager does (vSphere UPI with the external CCM). The
// addresses are data only: the kubelet serves on 127.0.0.1 and nothing ever connects to them.
//
// The host stays untouched: each kubelet runs in its own mount namespace (unshare, root) in which
// the sysctls it writes are files of its own, /var/lib (where its device-plugin socket has a fixed
// path) and /var/log are empty tmpfs, and its root dir is a temp dir. hostState() snapshots what a
// test compares before and after.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import type { ControlPlane } from './controlplane.ts';
import { ensureNodeBinaries } from './ensure.ts';

export interface RealKubeletOptions {
  /** The Node's name (--hostname-override). */
  name: string;
  /**
   * The IPs set as the Node's InternalIP addresses (with its name as Hostname) once it registers,
   * as a cloud controller manager does. Empty: the Node gets none and the kubelet files no
   * serving CSR.
   */
  addresses: string[];
}

export interface RealKubelet {
  readonly name: string;
  readonly addresses: readonly string[];
  /** The kubelet's TLS port on 127.0.0.1. */
  readonly port: number;
  /** Its folder: config, bootstrap kubeconfig, root dir (`root/`, with `pki/`), kubelet.log. */
  readonly dir: string;
  /** Date.now() when the process was (last) started. */
  readonly startedAt: number;
  /** The kubelet's log so far. */
  log(): string;
  /** Stops the kubelet and its runtime (its mount namespace goes with them); the folder stays. */
  stop(): Promise<void>;
  /** Starts it again on the same folder; `loseClientCertificate` first deletes its client certificate and kubeconfig. */
  restart(opts?: { loseClientCertificate?: boolean }): Promise<void>;
  /**
   * The certificate the kubelet serves, once the TLS handshake succeeds with the chain verified
   * against the CSR signer's CA; undefined while it has none.
   */
  servingCertificate(): Promise<X509Certificate | undefined>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

const SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
/** What a kubelet would create on the host if it were not shielded. */
const HOST_PATHS = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/usr/libexec/kubernetes', '/etc/kubernetes'];
const STOP_TIMEOUT_MS = 10_000;

const live = new Set<Started>();

interface Started { child: ChildProcess; exited: Promise<void>; dir: string }

/** Whether real kubelets can run here: root, Linux, unshare (the tests skip with this reason otherwise). */
export function realKubeletsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'real kubelets need Linux';
  if (process.getuid?.() !== 0) return 'real kubelets need root (a mount namespace each)';
  if (!['/usr/bin/unshare', '/bin/unshare'].some((p) => existsSync(p))) return 'real kubelets need unshare (util-linux)';
  return undefined;
}

/** Starts real kubelets in parallel against `cp`. */
export function startRealKubelets(cp: ControlPlane, specs: RealKubeletOptions[]): Promise<RealKubelet[]> {
  return Promise.all(specs.map((s) => startRealKubelet(cp, s)));
}

export async function startRealKubelet(cp: ControlPlane, opts: RealKubeletOptions): Promise<RealKubelet> {
  const [bins, dir, port] = await Promise.all([ensureNodeBinaries(cp.leg), mkdtemp(join(tmpdir(), 'ofi-kubelet-')), freePort()]);
  installExitHandler();
  await Promise.all([mkdir(join(dir, 'root')), mkdir(join(dir, 'sysctl')), mkdir(join(dir, 'volume-plugins'))]);
  await Promise.all([
    writeFile(join(dir, 'ca.crt'), cp.signerCaPem),
    writeFile(join(dir, 'bootstrap.kubeconfig'), stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ofi-test', cluster: { server: cp.url, 'certificate-authority-data': Buffer.from(cp.caPem).toString('base64') } }],
      users: [{ name: 'bootstrap', user: { token: cp.bootstrapToken } }],
      contexts: [{ name: 'bootstrap', context: { cluster: 'ofi-test', user: 'bootstrap' } }],
      'current-context': 'bootstrap',
    }), { mode: 0o600 }),
    writeFile(join(dir, 'config.yaml'), stringify(kubeletConfig(dir, port))),
  ]);

  let proc: Started | undefined;
  let startedAt = 0;
  let cloud: Promise<void> | undefined;
  let stopped = false;
  const start = () => {
    startedAt = Date.now();
    proc = launch(dir, bins, opts.name);
    // A cloud controller manager's part: the Node's addresses once it is registered.
    cloud = setNodeAddresses(cp, opts.name, opts.addresses, () => stopped || !proc || proc.child.exitCode !== null);
    cloud.catch(() => undefined);
  };
  const stop = async () => {
    stopped = true;
    await terminate(proc);
    await cloud?.catch(() => undefined);
  };
  start();
  return {
    name: opts.name,
    addresses: opts.addresses,
    port,
    dir,
    get startedAt() { return startedAt; },
    log: () => { try { return readFileSync(join(dir, 'kubelet.log'), 'utf8'); } catch { return ''; } },
    stop,
    async restart(restartOpts = {}) {
      await stop();
      if (restartOpts.loseClientCertificate) {
        const pki = join(dir, 'root', 'pki');
        for (const f of readdirSync(pki)) if (f.startsWith('kubelet-client')) rmSync(join(pki, f), { force: true });
        rmSync(join(dir, 'root', 'kubeconfig'), { force: true });
      }
      stopped = false;
      start();
    },
    servingCertificate: () => servingCertificate(port, cp.signerCaPem),
    async remove() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** cgroup v1 without QoS cgroups or node-allocatable enforcement; TLS on loopback only; nothing on the host. */
function kubeletConfig(dir: string, port: number): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${join(dir, 'cri.sock')}`,
    address: '127.0.0.1',
    port,
    healthzPort: 0,
    readOnlyPort: 0,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    makeIPTablesUtilChains: false,
    volumePluginDir: join(dir, 'volume-plugins'),
    rotateCertificates: true,
    serverTLSBootstrap: true,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: join(dir, 'ca.crt') } },
    authorization: { mode: 'AlwaysAllow' },
    // Status every few seconds (a 1.29 kubelet learns the addresses set for it when it writes its status).
    nodeStatusUpdateFrequency: '5s',
    nodeStatusReportFrequency: '10s',
  };
}

// The kubelet's own mount namespace: the sysctls it sets become files of its folder; /var/lib and
// /var/log are empty tmpfs (its device-plugin socket and container log dirs have fixed paths); its
// root dir is the folder's root/ mounted at /var/lib/kubelet. Everything goes with the namespace.
const NAMESPACE_SCRIPT = `set -e
d=$1 kubelet=$2 runtime=$3 name=$4
for s in ${SYSCTLS.join(' ')}; do
  f="$d/sysctl/$(echo "$s" | tr / .)"
  cat "/proc/sys/$s" > "$f"
  mount --bind "$f" "/proc/sys/$s"
done
mount -t tmpfs -o mode=0755 ofi-var-lib /var/lib
mkdir /var/lib/kubelet
mount --bind "$d/root" /var/lib/kubelet
mount -t tmpfs -o mode=0755 ofi-var-log /var/log
"$runtime" "unix://$d/cri.sock" &
while [ ! -S "$d/cri.sock" ]; do sleep 0.05; done
exec "$kubelet" --config="$d/config.yaml" --bootstrap-kubeconfig="$d/bootstrap.kubeconfig" \\
  --kubeconfig=/var/lib/kubelet/kubeconfig --root-dir=/var/lib/kubelet --cert-dir=/var/lib/kubelet/pki \\
  --hostname-override="$name" --cloud-provider=external
`;

function launch(dir: string, bins: { kubelet: string; fakeRuntime: string }, name: string): Started {
  const log = join(dir, 'kubelet.log');
  const fd = openSync(log, 'a');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', NAMESPACE_SCRIPT, 'ofi-kubelet', dir, bins.kubelet, bins.fakeRuntime, name], {
    detached: true, stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      writeFileSync(log, `spawn unshare: ${e.message}\n`, { flag: 'a' });
      resolve();
    });
  });
  child.unref();
  if (child.pid) {
    // Kills the group if this process dies without its exit handler (SIGKILL, a crashed runner).
    const watchdog = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill -KILL "-$2" 2>/dev/null; sleep 1; rm -rf "$3"';
    spawn('sh', ['-c', watchdog, 'ofi-watchdog', String(process.pid), String(child.pid), dir], { detached: true, stdio: 'ignore' }).unref();
  }
  const started = { child, exited, dir };
  live.add(started);
  void exited.then(() => live.delete(started));
  return started;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function terminate(p: Started | undefined): Promise<void> {
  if (!p) return;
  p.child.ref();
  killGroup(p.child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS); });
  if (await Promise.race([p.exited.then(() => false), timedOut])) killGroup(p.child, 'SIGKILL');
  clearTimeout(timer);
  await p.exited;
  // the runtime, a child of the group, may outlive the kubelet by a moment
  try {
    if (p.child.pid !== undefined) process.kill(-p.child.pid, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

let exitHandler = false;

function installExitHandler(): void {
  if (exitHandler) return;
  exitHandler = true;
  process.on('exit', () => {
    for (const p of live) {
      killGroup(p.child, 'SIGKILL');
      try {
        rmSync(p.dir, { recursive: true, force: true });
      } catch {
        // the watchdog removes it a second later
      }
    }
  });
}

/** Waits for the Node, then sets its addresses, drops the uninitialized taint and labels it a worker. */
async function setNodeAddresses(cp: ControlPlane, name: string, ips: string[], gone: () => boolean): Promise<void> {
  const path = `/api/v1/nodes/${name}`;
  let node: { spec?: { taints?: { key: string }[] } } | undefined;
  while (!node) {
    if (gone()) return;
    const res = await cp.admin.requestRaw('GET', path);
    if (res.status === 200) node = JSON.parse(res.body);
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const merge = 'application/merge-patch+json';
  if (ips.length > 0) {
    const addresses = [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }];
    await cp.admin.request('PATCH', `${path}/status`, { body: { status: { addresses } }, contentType: merge });
  }
  const taints = (node.spec?.taints ?? []).filter((t) => t.key !== 'node.cloudprovider.kubernetes.io/uninitialized');
  await cp.admin.request('PATCH', path, { body: { metadata: { labels: { 'node-role.kubernetes.io/worker': '' } }, spec: { taints } }, contentType: merge });
}

function servingCertificate(port: number, caPem: string): Promise<X509Certificate | undefined> {
  return new Promise((resolve) => {
    // The chain is verified against the signer's CA; the names are the test's to check (the
    // certificate names the Node's addresses, not 127.0.0.1).
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, rejectUnauthorized: true, checkServerIdentity: () => undefined }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(der ? new X509Certificate(der) : undefined);
    });
    socket.setTimeout(2000, () => { socket.destroy(); resolve(undefined); });
    socket.once('error', () => resolve(undefined));
  });
}

/** What a kubelet could change on this host: the sysctls it sets, the mounts, the paths it creates. */
export async function hostState(): Promise<{ sysctls: Record<string, string>; mounts: string; paths: Record<string, boolean>; cgroups: string[] }> {
  const sysctls = Object.fromEntries(await Promise.all(SYSCTLS.map(async (s) => [s, (await readFile(`/proc/sys/${s}`, 'utf8')).trim()] as const)));
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  const paths = Object.fromEntries(HOST_PATHS.map((p) => [p, existsSync(p)]));
  // the cgroups directly under each hierarchy (kubepods, a QoS tree, system.slice)
  const cgroups = readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((e) => e.isDirectory())
    .flatMap((h) => readdirSync(join('/sys/fs/cgroup', h.name), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${h.name}/${e.name}`));
  return { sysctls, mounts, paths, cgroups };
}

/**
 * A free port below the ephemeral range: the kubelet binds it a second or two later, and in the
 * meantime an outgoing connection could take a port of the ephemeral range, never one below it.
 */
async function freePort(): Promise<number> {
  const [low = 32768] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

/** Ports handed out by this process (two kubelets starting together must not draw the same one). */
const taken = new Set<number>();
