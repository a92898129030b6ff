// The binaries the integration tests, the demo and the benchmark run: etcd, kube-apiserver and
// kube-controller-manager (the control plane), the kubelet and a fake CRI runtime (real machines,
// kubelet.ts), built from their Go modules through the wrapper modules in test/env/go/ (DOMAIN 8),
// once per machine and version, cached outside the repo.
//   node test/env/ensure.ts [current|oldest|all]   builds what is missing (default: current)
// ensureBinaries() builds on first use, so `npm run demo` on a fresh clone needs no other step.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Binaries { apiserver: string; controllerManager: string; etcd: string; kubeVersion: string }

/** A real machine's binaries: the kubelet and the fake CRI runtime it talks to (kubelet.ts). */
export interface NodeBinaries { kubelet: string; fakeRuntime: string; kubeVersion: string }

/**
 * `current`: what OpenShift 4.21 runs (Kubernetes 1.34). `oldest`: the oldest supported,
 * OpenShift 4.16 (Kubernetes 1.29). Each names its wrapper module and the openshift/api module
 * whose CRDs it installs.
 */
export type Leg = 'current' | 'oldest';
export const LEGS: Record<Leg, { kube: string; openshiftApi: string }> = {
  current: { kube: 'kube-1.34', openshiftApi: 'openshift-api-4.21' },
  oldest: { kube: 'kube-1.29', openshiftApi: 'openshift-api-4.16' },
};

/** The leg a test run uses: OFI_KUBE_LEG=oldest selects the oldest supported Kubernetes. */
export function currentLeg(): Leg {
  const leg = process.env.OFI_KUBE_LEG || 'current';
  if (leg !== 'current' && leg !== 'oldest') throw new Error(`OFI_KUBE_LEG=${leg}: expected current or oldest`);
  return leg;
}

const GO_DIR = fileURLToPath(new URL('./go/', import.meta.url));

export function cacheDir(): string {
  return process.env.OFI_CACHE_DIR || join(homedir(), '.cache', 'openshift-finish-install');
}

interface Component {
  /** names the cache folder */
  name: string;
  /** wrapper module folder under test/env/go */
  module: string;
  /** the module whose version names the build */
  versionOf: string;
  /** main packages, and the names their binaries get */
  packages: Record<string, string>;
  ldflags(version: string): string[];
  /** what the first build costs, measured on a 2-core machine (shown while it runs) */
  estimate: string;
  /** what it is for, in the build's messages */
  role: string;
  /** files of the wrapper module the build compiles (hashed with go.mod and go.sum) */
  sources?: string[];
}

function kubeComponent(module: string, commands = ['kube-apiserver', 'kube-controller-manager']): Component {
  return {
    name: commands.length === 1 ? commands[0]! : 'kube',
    module,
    versionOf: 'k8s.io/kubernetes',
    packages: Object.fromEntries(commands.map((c) => [`k8s.io/kubernetes/cmd/${c}`, c])),
    // Without these the servers report v0.0.0-master (DOMAIN 8).
    ldflags(version) {
      const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version) ?? [];
      return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
        `-X ${p}.gitVersion=${version}`, `-X ${p}.gitMajor=${major}`, `-X ${p}.gitMinor=${minor}`,
        `-X ${p}.gitTreeState=clean`, `-X ${p}.buildDate=1970-01-01T00:00:00Z`,
      ]);
    },
    estimate: 'about 7 minutes on 2 cores, measured',
    role: 'control plane',
  };
}

/**
 * The kubelet of the leg's k8s.io/kubernetes, and fake-cri: the fake CRI runtime kubemark's
 * hollow nodes use, served on a unix socket by the wrapper module's own small main (fake-cri/).
 */
function nodeComponent(module: string): Component {
  return {
    ...kubeComponent(module, ['kubelet']),
    packages: { 'k8s.io/kubernetes/cmd/kubelet': 'kubelet', 'ofi.test/kube/fake-cri': 'fake-cri' },
    sources: ['fake-cri/main.go'],
    estimate: 'about 1.5 minutes on 2 cores after the control plane\'s build, measured',
    role: 'nodes',
  };
}

const ETCD: Component = {
  name: 'etcd',
  module: 'etcd-3.6',
  versionOf: 'go.etcd.io/etcd/server/v3',
  packages: { 'go.etcd.io/etcd/server/v3': 'etcd' },
  ldflags: () => [],
  estimate: 'about 2.5 minutes on 2 cores, measured',
  role: 'control plane',
};

/** The path of each binary of the leg, building whatever is missing. */
export async function ensureBinaries(leg: Leg = currentLeg()): Promise<Binaries> {
  const kube = kubeComponent(LEGS[leg].kube);
  const fromEnv = leg === 'current' ? envBinaries() : undefined;
  if (fromEnv) return { ...fromEnv, kubeVersion: moduleVersion(kube) };
  const etcdDir = await ensureComponent(ETCD);
  const kubeDir = await ensureComponent(kube);
  return {
    apiserver: join(kubeDir, 'kube-apiserver'),
    controllerManager: join(kubeDir, 'kube-controller-manager'),
    etcd: join(etcdDir, 'etcd'),
    kubeVersion: moduleVersion(kube),
  };
}

/** The kubelet and fake runtime of the leg (real machines for the tests, the demo and the benchmark). */
export async function ensureNodeBinaries(leg: Leg = currentLeg()): Promise<NodeBinaries> {
  const node = nodeComponent(LEGS[leg].kube);
  const dir = await ensureComponent(node);
  return { kubelet: join(dir, 'kubelet'), fakeRuntime: join(dir, 'fake-cri'), kubeVersion: moduleVersion(node) };
}

/** kubectl of the current leg, for the benchmark's shell loops; KUBECTL_BIN points at another. */
export async function ensureKubectl(): Promise<string> {
  const fromEnv = process.env.KUBECTL_BIN;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`KUBECTL_BIN=${fromEnv} is not executable`);
    return fromEnv;
  }
  return join(await ensureComponent(kubeComponent(LEGS.current.kube, ['kubectl'])), 'kubectl');
}

/** KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN, when all three are set. */
function envBinaries(): Omit<Binaries, 'kubeVersion'> | undefined {
  const vars = { apiserver: 'KUBE_APISERVER_BIN', controllerManager: 'KUBE_CONTROLLER_MANAGER_BIN', etcd: 'ETCD_BIN' } as const;
  const set = Object.values(vars).filter((v) => process.env[v]);
  if (set.length === 0) return undefined;
  if (set.length < 3) throw new Error(`set all of ${Object.values(vars).join(', ')} or none (only ${set.join(', ')} set)`);
  for (const v of set) if (!executable(process.env[v]!)) throw new Error(`${v}=${process.env[v]} is not executable`);
  return { apiserver: process.env[vars.apiserver]!, controllerManager: process.env[vars.controllerManager]!, etcd: process.env[vars.etcd]! };
}

function moduleVersion(c: Component): string {
  const mod = readFileSync(join(GO_DIR, c.module, 'go.mod'), 'utf8');
  const version = new RegExp(`^\\s*(?:require\\s+)?${c.versionOf.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(mod)?.[1];
  if (!version) throw new Error(`test/env/go/${c.module}/go.mod requires no ${c.versionOf}`);
  return version;
}

/**
 * One build of each component at a time in this process: the demo starts three kubelets at once,
 * and a second build of the same component had its staging folder pruned by the first.
 */
const building = new Map<string, Promise<string>>();

function ensureComponent(c: Component): Promise<string> {
  const key = `${c.module} ${c.name} ${Object.keys(c.packages).join(' ')}`;
  const pending = building.get(key);
  if (pending) return pending;
  const build = buildComponent(c).finally(() => building.delete(key));
  building.set(key, build);
  return build;
}

/** Cached by name, version and a hash of everything the build depends on. */
async function buildComponent(c: Component): Promise<string> {
  const version = moduleVersion(c);
  const dir = join(GO_DIR, c.module);
  const go = goBinary();
  const hash = createHash('sha256')
    .update(readFileSync(join(dir, 'go.mod'))).update(readFileSync(join(dir, 'go.sum')));
  for (const source of c.sources ?? []) hash.update(source).update(readFileSync(join(dir, source)));
  const digest = hash
    .update(c.ldflags(version).join(' ')).update(go.version)
    .digest('hex').slice(0, 10);
  const name = `${c.name}-${version}`;
  const target = join(cacheDir(), 'bin', `${name}-${digest}`);
  const binaries = Object.values(c.packages);
  if (binaries.every((b) => executable(join(target, b)))) return target;

  const what = `${binaries.join(' and ')} ${version}`;
  const t0 = Date.now();
  console.log(`${c.role}: building ${what} from Go modules (first use on this machine: ${c.estimate}); cache ${target}`);
  const heartbeat = setInterval(() => console.log(`${c.role}: still building ${what} (${Math.round((Date.now() - t0) / 1000)}s)`), 60_000);
  try {
    await mkdir(join(cacheDir(), 'bin'), { recursive: true });
    const out = await mkdtemp(join(cacheDir(), 'bin', `.${name}-`));
    await runGo(go.path, ['build', '-trimpath', `-ldflags=-s -w ${c.ldflags(version).join(' ')}`, '-o', `${out}/`, ...Object.keys(c.packages)], dir);
    for (const [pkg, bin] of Object.entries(c.packages)) {
      // go build names a binary after the last path element that is not a major version (/v3)
      const built = join(out, pkg.split('/').filter((e) => !/^v\d+$/.test(e)).at(-1)!);
      if (built !== join(out, bin)) await rename(built, join(out, bin));
    }
    await rm(target, { recursive: true, force: true });
    await rename(out, target);
    await pruneOtherBuilds(name, target);
  } finally {
    clearInterval(heartbeat);
  }
  console.log(`${c.role}: built ${what} in ${Math.round((Date.now() - t0) / 1000)}s`);
  return target;
}

async function pruneOtherBuilds(name: string, keep: string): Promise<void> {
  const bin = join(cacheDir(), 'bin');
  for (const entry of await readdir(bin)) {
    const path = join(bin, entry);
    if (path !== keep && (entry.startsWith(`${name}-`) || entry.startsWith(`.${name}-`))) await rm(path, { recursive: true, force: true });
  }
}

let goFound: { path: string; version: string } | undefined;

/** Go 1.24 or newer: /usr/local/go first (these machines), then the PATH. */
export function goBinary(): { path: string; version: string } {
  if (goFound) return goFound;
  const candidates = ['/usr/local/go/bin/go', ...(process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, 'go'))];
  for (const path of candidates) {
    if (!existsSync(path) || !executable(path)) continue;
    const version = spawnSync(path, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).stdout?.trim() ?? '';
    const [, minor] = /^go1\.(\d+)/.exec(version) ?? [];
    if (Number(minor) >= 24) return (goFound = { path, version });
  }
  throw new Error('building the test control plane needs Go 1.24 or newer (looked in /usr/local/go/bin and the PATH); install Go or set KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN');
}

function runGo(go: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
    const child = spawn(go, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`go ${args[0]} in ${cwd} failed (exit ${code}):\n${output.split('\n').slice(-40).join('\n')}`))));
  });
}

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const which = process.argv[2] ?? 'current';
  const legs: Leg[] = which === 'all' ? ['current', 'oldest'] : [which as Leg];
  try {
    for (const leg of legs) {
      if (!(leg in LEGS)) throw new Error(`unknown leg ${leg}: expected current, oldest or all`);
      const found = await ensureBinaries(leg);
      const node = await ensureNodeBinaries(leg);
      console.log(`ensure: ${leg} leg, Kubernetes ${found.kubeVersion}: ${found.apiserver}, ${found.controllerManager}, ${found.etcd}, ${node.kubelet}, ${node.fakeRuntime}`);
    }
    if (which === 'all') console.log(`ensure: act (the examples' workflow engine): ${await (await import('./act.ts')).ensureAct({ cacheDir, goBinary })}`);
  } catch (e) {
    console.error(`ensure: ${(e as Error).message}`);
    process.exit(1);
  }
}
