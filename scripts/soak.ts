// npm run soak -- --minutes N (default 30): the renewal service (dist/cli.js --watch) against the
// real test control plane for N minutes, with a simulated fleet that keeps renewing its serving
// certificates, machines listed and unlisted, an adversary, and faults on a schedule. Writes
// RELIABILITY.md (or --report PATH) with the figures. Loopback only; stops by itself.
//
// --faults a,b,... runs those faults in that order (default: every fault, see FAULT_ORDER);
// a short trial: npm run soak -- --minutes 4 --faults approval-revoked-60s with
// OFI_SOAK_FAULTS_FROM_S=60. --js-heap loads a probe into the service that reports its JS heap
// every 30 s (scripts/soak/heap-probe.mjs; its loading adds memory of its own, about 4 MiB to a
// bare node process, so the run for the memory goal goes without it). Hostile CSR names
// (workflow commands, controls, bidi) are filed throughout, and the service's log is scanned for
// commands formed from them.
//
// Scaled-down lifetimes: each listed machine files a serving renewal about once a minute (a real
// kubelet does so months apart); the cluster's garbage collection of CSRs (approved after 1 h,
// pending after 24 h) is played by the soak after 3 and 10 minutes.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../test/env/controlplane.ts';
import { ensureBinaries } from '../test/env/ensure.ts';
import { startProxy, withServer } from '../test/env/proxy.ts';
import { buildCsr } from '../test/sim/csr-builder.ts';
import { BOOTSTRAPPER, call, CSR_PATH, csrObject, seededRandom, SIGNER, USAGES } from '../test/sim/common.ts';
import { HOSTILE_TEXT } from '../test/env/runner-commands.ts';
import { Informer } from '../test/sim/informer.ts';
import { startInstall } from '../test/sim/install.ts';
import { applyFault, FAULT_ORDER, tokenRotation, type FaultKind, type FaultResult } from './soak/faults.ts';
import { startService, type Sample } from './soak/process.ts';
import { noteApprovals, Renewals, type Machine } from './soak/renewals.ts';
import { forgedCommandLines, renderReport, type Recovery } from './soak/report.ts';

const arg = (name: string) => {
  const at = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  return process.argv[at]!.includes('=') ? process.argv[at]!.split('=')[1] : process.argv[at + 1];
};
const MINUTES = Number(arg('minutes') ?? 30);
if (!(MINUTES >= 3)) throw new Error('--minutes: a number of minutes, at least 3');
const REPORT = arg('report') ?? 'RELIABILITY.md';
/** The service's whole log, beside the report (RELIABILITY.service.log is ignored by git). */
const SERVICE_LOG = REPORT.replace(/(\.md)?$/, '.service.log');
const FAULTS = (arg('faults')?.split(',').filter(Boolean) ?? [...FAULT_ORDER]) as FaultKind[];
for (const kind of FAULTS) if (!FAULT_ORDER.includes(kind)) throw new Error(`--faults: '${kind}' is not one of ${FAULT_ORDER.join(', ')}`);
const HOSTILE_EVERY_MS = 5000;
/** The service's --approval-failure-grace: well inside the revoked minute. */
const APPROVAL_GRACE_S = 30;
const FLEET = 50;
const POLL_S = 10;
const RENEW_EVERY_MS = 60_000;
const CHURN_EVERY_MS = 3 * 60_000;
const LISTED_FOR_MS = 2 * 60_000;
const FORGE_EVERY_MS = 10_000;
// OFI_SOAK_FAULTS_FROM_S / OFI_SOAK_FAULT_EVERY_S: a quicker schedule for a short trial run.
const FAULT_EVERY_MS = Number(process.env.OFI_SOAK_FAULT_EVERY_S ?? 150) * 1000;
const FIRST_FAULT_MS = Number(process.env.OFI_SOAK_FAULTS_FROM_S ?? 180) * 1000;
const GC_APPROVED_MS = 3 * 60_000;
const GC_PENDING_MS = 10 * 60_000;
const GRACE_MS = 90_000;
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
/** The Environment= settings of the systemd unit we ship, so the service runs as deployed. */
const UNIT_ENVIRONMENT = unitEnvironment(readFileSync(new URL('../examples/openshift-finish-install.service', import.meta.url), 'utf8'));
const log = (line: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Bounded: whatever happens, the soak ends.
setTimeout(() => {
  log('hard deadline reached: exiting');
  process.exit(3);
}, (MINUTES + 15) * 60_000).unref();

const random = seededRandom(20261201);
const bins = await ensureBinaries();
const etcdVersion = execFileSync(bins.etcd, ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
const cliVersion = execFileSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).trim();
const cliHelp = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { encoding: 'utf8' }).trim() !== '';
const dir = mkdtempSync(join(tmpdir(), 'ofi-soak-'));
const cp = await startControlPlane();
const proxy = await startProxy(cp.url);
log(`control plane ${cp.version} at ${cp.url}, proxy ${proxy.url}`);

const fleet: Machine[] = Array.from({ length: FLEET }, (_, i) => ({ name: `soak-${i}`, ip: `10.8.${Math.floor(i / 200)}.${10 + (i % 200)}` }));
const extras: Machine[] = Array.from({ length: Math.ceil(MINUTES / 3) + 1 }, (_, i) => ({ name: `soak-extra-${i}`, ip: `10.9.0.${10 + i}` }));
const sim = await startInstall(cp, {
  controlPlaneNodes: 3,
  registry: false,
  clusterVersion: false,
  workers: [
    ...fleet.map((m, i) => ({ name: m.name, addresses: [m.ip], startAfterMs: i * 300 })),
    ...extras.map((m) => ({ name: m.name, addresses: [m.ip], neverBoots: true })),
  ],
});
const listed = new Set(fleet.map((m) => m.name));
const nodesFile = join(dir, 'nodes');
const byName = new Map([...fleet, ...extras].map((m) => [m.name, m]));
const writeNodes = () => writeFileSync(nodesFile, [...listed].map((n) => `${n} ${byName.get(n)!.ip} ${n}`).join('\n') + '\n');
writeNodes();
// A token rotation needs the service to read a kubeconfig tokenFile again; it is one of the faults
// once that support has landed (committed under src/), and skipped before.
const rotationLanded = spawnSync('git', ['grep', '-q', '-i', 'tokenFile', 'HEAD', '--', 'src/cluster']).status === 0;
const kubeconfig = join(dir, 'kubeconfig');
const tokenFile = join(dir, 'token');
const token = { token: cp.actionToken };
writeFileSync(tokenFile, `${cp.actionToken}\n`, { mode: 0o600 });
const kubeconfigText = withServer(cp.kubeconfig('action'), proxy.url);
writeFileSync(kubeconfig, rotationLanded ? kubeconfigText.replace(/token: \S+/, `tokenFile: ${tokenFile}`) : kubeconfigText, { mode: 0o600 });

// The soak's own eyes on approvals: one CSR watch as the admin, straight to the API server.
// Keyed by uid: the API server gives a generated name (csr-xxxxx) again once its CSR is deleted,
// so a forgery garbage-collected unapproved and a later renewal can share a name.
const approvedAt = new Map<string, number>();
const isApproved = (csr: any) => (csr.status?.conditions ?? []).some((c: any) => c.type === 'Approved' && c.status !== 'False');
const watch = new Informer(sim.ctx, CSR_PATH, (type, csr) => {
  if (type !== 'DELETED' && isApproved(csr) && !approvedAt.has(csr.metadata.uid)) approvedAt.set(csr.metadata.uid, Date.now());
});
await watch.start();

const metricsPort = cliHelp.includes('--metrics-address') ? await freePort() : undefined;
const approvalGraceMs = metricsPort && cliHelp.includes('--approval-failure-grace') ? APPROVAL_GRACE_S * 1000 : undefined;
const service = startService(
  CLI,
  [
    '--watch', '--nodes-file', nodesFile, '--kubeconfig', kubeconfig, '--poll-interval', `${POLL_S}s`,
    ...(metricsPort ? ['--metrics-address', `127.0.0.1:${metricsPort}`] : []),
    ...(approvalGraceMs ? ['--approval-failure-grace', `${APPROVAL_GRACE_S}s`] : []),
  ],
  // The environment the shipped systemd unit gives the service, and OFI_SOAK_NODE_OPTIONS: NODE_OPTIONS
  // for it (e.g. --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/heap).
  { PATH: process.env.PATH ?? '', HOME: dir, ...UNIT_ENVIRONMENT, ...(process.env.OFI_SOAK_NODE_OPTIONS ? { NODE_OPTIONS: process.env.OFI_SOAK_NODE_OPTIONS } : {}) },
  metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
  () => loadavg()[0]!,
  SERVICE_LOG,
  process.argv.includes('--js-heap'),
);
log(`service pid ${service.child.pid}: ${cliVersion}${metricsPort ? `, metrics on ${metricsPort}` : ', no --metrics-address in this build'}`);
await sim.whenReady(fleet.map((m) => m.name), 240_000);
const startedAt = Date.now();
const endAt = startedAt + MINUTES * 60_000;
log(`fleet of ${FLEET} Ready; soaking for ${MINUTES} min`);

const renewals = new Renewals(sim.ctx, RENEW_EVERY_MS, random);
for (const m of fleet) renewals.start(m);
const samples: Sample[] = [];
const faults: Array<FaultResult & { recovery?: Recovery }> = [];
const forged: Array<{ name: string; uid: string; kind: string; at: number }> = [];
/** Hostile text the API server takes as a CSR name (it refuses '/', '%', '.', '..'; a lone surrogate is not JSON text). */
const hostileNames = HOSTILE_TEXT.filter((t) => !/[/%]/.test(t) && t !== '.' && t !== '..' && t.trim() !== '' && t.length <= 200 && wellFormed(t));
let hostileFiled = 0;
const churn: string[] = [];
const soakErrors: string[] = [];
let stopping = false;
const running = () => !stopping && Date.now() < endAt;
const note = (what: string) => (error: unknown) => soakErrors.push(`${new Date().toISOString()} ${what}: ${(error as Error).message}`);

const loops = [
  // resident memory and open handles, once a minute (and at the start)
  (async () => {
    for (let i = 0; running(); i++) {
      const s = await service.sample();
      if (s) samples.push(s);
      await sleepUntil(startedAt + (i + 1) * 60_000);
    }
  })(),
  // an adversary that keeps filing forged requests
  (async () => {
    for (let i = 0; running(); i++) {
      const a = fleet[i % FLEET]!;
      const b = fleet[(i + 7) % FLEET]!;
      const forgeries: Array<[string, () => Promise<string>]> = [
        ['client for an unlisted machine', () => sim.adversary.clientForUnlistedMachine(`soak-rogue-${i}`)],
        ['serving with another node\'s address', () => sim.adversary.servingWithOtherNodesIp(a.name, b.ip, [a.ip])],
        ['serving outside the declared addresses', () => sim.adversary.servingOutsideDeclared(a.name, `10.99.${i % 250}.1`, [a.ip])],
        ['client for an existing Node', () => sim.adversary.clientForExistingNode(a.name)],
        ['serving with two CNs (Go reads the last)', () => sim.adversary.servingTwoCommonNames(a.name, b.name, [a.ip])],
      ];
      const [kind, file] = forgeries[i % forgeries.length]!;
      await file().then((name) => forged.push({ name, uid: sim.adversary.uidOf(name)!, kind, at: Date.now() }), note(`forgery '${kind}'`));
      await sleep(FORGE_EVERY_MS);
    }
  })(),
  // hostile CSR names, throughout: bootstrap client requests for an unlisted machine, refused
  // (node-not-listed) and so written to the service's log with their names
  (async () => {
    for (let i = 0; running(); i++) {
      const name = `${hostileNames[i % hostileNames.length]!} ${i}`;
      const { pem } = buildCsr({ commonName: `system:node:soak-hostile-${i}`, organizations: ['system:nodes'] });
      const body = { ...(csrObject(pem, SIGNER.kubeletClient, USAGES.client) as any), metadata: { name } };
      await call<any>(sim.ctx, 'POST', CSR_PATH, { body, impersonate: BOOTSTRAPPER }).then(
        (csr) => {
          hostileFiled++;
          forged.push({ name: csr.metadata.name, uid: csr.metadata.uid, kind: 'client with a hostile name', at: Date.now() });
        },
        note('hostile name'),
      );
      await sleep(HOSTILE_EVERY_MS);
    }
  })(),
  // a machine added to the nodes file, served, renewing, then removed again
  (async () => {
    for (let i = 0; i < extras.length && running(); i++) {
      await sleepUntil(startedAt + 60_000 + i * CHURN_EVERY_MS);
      if (!running()) break;
      const m = extras[i]!;
      listed.add(m.name);
      writeNodes();
      churn.push(`${iso()} listed ${m.name}`);
      await sleep(3000); // the service re-reads the file every second
      void sim.kubelet(m.name).start().catch(note(`boot ${m.name}`));
      await sim.whenReady([m.name], 120_000).then(() => churn.push(`${iso()} ${m.name} Ready`), note(`${m.name} Ready`));
      renewals.start(m);
      await sleep(LISTED_FOR_MS);
      renewals.halt(m.name);
      for (let t = 0; t < 60 && renewals.outstanding().some((r) => r.node === m.name); t++) await sleep(500);
      listed.delete(m.name);
      writeNodes();
      sim.kubelet(m.name).stop();
      await cp.admin.requestRaw('DELETE', `/api/v1/nodes/${m.name}`);
      churn.push(`${iso()} unlisted ${m.name} and deleted its Node`);
    }
  })(),
  // the cluster's CSR garbage collection, scaled down
  (async () => {
    while (running()) {
      await sleep(30_000);
      const list = await cp.admin.request('GET', CSR_PATH).catch(() => undefined);
      for (const csr of list?.items ?? []) {
        const age = Date.now() - Date.parse(csr.metadata.creationTimestamp);
        const approved = approvedAt.get(csr.metadata.uid);
        if ((approved !== undefined && Date.now() - approved > GC_APPROVED_MS) || (!isApproved(csr) && age > GC_PENDING_MS)) {
          await cp.admin.requestRaw('DELETE', `${CSR_PATH}/${encodeURIComponent(csr.metadata.name)}`).catch(note('garbage collection'));
        }
      }
    }
  })(),
  // faults on a schedule, each followed by a probe renewal that times the recovery
  (async () => {
    for (let i = 0; ; i++) {
      await sleepUntil(startedAt + FIRST_FAULT_MS + i * FAULT_EVERY_MS);
      if (!running() || Date.now() > endAt - Math.min(2 * 60_000, FAULT_EVERY_MS)) break;
      const kind = FAULTS[i % FAULTS.length]!;
      log(`fault: ${kind}`);
      const result = await applyFault(kind, { cp, proxy, actionToken: () => token.token, ...(rotationLanded ? { rotateToken: tokenRotation(cp, tokenFile, token) } : {}), ...(metricsPort ? { healthUrl: `http://127.0.0.1:${metricsPort}/healthz` } : {}), ...(approvalGraceMs ? { approvalGraceMs } : {}) }).catch((error: unknown) => ({ kind, startedAt: Date.now(), endedAt: Date.now(), detail: '', skipped: `failed: ${(error as Error).message}` }));
      faults.push(result);
      if (result.skipped) continue;
      const probe = await renewals.file(fleet[i % FLEET]!, kind).catch(() => undefined);
      if (!probe) continue;
      const approvedProbe = await pollApproved(probe, 120_000);
      (result as { recovery?: Recovery }).recovery = { probe: probe.name, filedMs: probe.filedAt - result.endedAt, approvedMs: approvedProbe === undefined ? undefined : approvedProbe - result.endedAt };
      log(`fault ${kind}: probe ${probe.name} approved ${approvedProbe === undefined ? 'never' : `${((approvedProbe - result.endedAt) / 1000).toFixed(1)} s`} after the fault ended`);
    }
  })(),
];

await sleepUntil(endAt);
stopping = true;
renewals.stopAll();
log('soak over: waiting for the last renewals');
const graceEnd = Date.now() + GRACE_MS;
while (Date.now() < graceEnd) {
  noteApprovals(renewals.filed, approvedAt);
  if (renewals.outstanding().length === 0) break;
  await sleep(1000);
}
await Promise.race([Promise.all(loops), sleep(60_000)]);
const last = await service.sample();
if (last) samples.push(last);
const metricsAtEnd = await service.metricsText();
// The authority on every request: the CSRs as the API server has them now.
const final = await cp.admin.request('GET', CSR_PATH);
for (const csr of final.items ?? []) if (isApproved(csr) && !approvedAt.has(csr.metadata.uid)) approvedAt.set(csr.metadata.uid, Date.now());
noteApprovals(renewals.filed, approvedAt);
const exitCode = await service.stop();
await watch.stop();
const forgedApproved = forged.filter((f) => approvedAt.has(f.uid));

const report = renderReport({
  date: new Date(startedAt).toISOString(),
  minutes: MINUTES,
  versions: { node: process.version, kubernetes: cp.version, etcd: etcdVersion, cli: cliVersion, commit: `${commit}${dirty ? ' (working tree with uncommitted changes under src/)' : ''}` },
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); the load average column says what else ran`,
  fleet: FLEET,
  environment: UNIT_ENVIRONMENT,
  pollS: POLL_S,
  renewals: renewals.filed,
  renewalErrors: renewals.errors,
  forged,
  forgedApproved,
  faults,
  samples,
  startedAt,
  lines: service.lines,
  exitCode,
  churn,
  soakErrors,
  metrics: metricsAtEnd,
  hostileFiled,
  forgedCommands: forgedCommandLines(service.lines),
  faultOrder: FAULTS,
  serviceLog: SERVICE_LOG,
});
writeFileSync(REPORT, report);
log(`wrote ${REPORT}`);
console.log(report);
await sim.stop();
await proxy.close();
await cp.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

// ---------------------------------------------------------------------------------------------

function iso(): string {
  return new Date().toISOString().slice(11, 19);
}

async function sleepUntil(at: number): Promise<void> {
  while (Date.now() < at && !stopping) await sleep(Math.min(1000, at - Date.now()));
}

/** When the request first reads back Approved, polled every 250 ms straight from the API server. */
async function pollApproved(request: { name: string; uid: string }, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const csr = await cp.admin.request('GET', `${CSR_PATH}/${encodeURIComponent(request.name)}`).catch(() => undefined);
    if (csr && csr.metadata.uid === request.uid && isApproved(csr)) return Math.min(Date.now(), approvedAt.get(request.uid) ?? Infinity);
    await sleep(250);
  }
  return undefined;
}

function wellFormed(text: string): boolean {
  try {
    encodeURIComponent(text); // throws on a lone surrogate
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `Environment=A=1 B=2` lines of a systemd unit (comments skipped; no quoting in ours). */
function unitEnvironment(unit: string): Record<string, string> {
  const pairs = unit.split('\n').filter((l) => l.startsWith('Environment=')).flatMap((l) => l.slice('Environment='.length).trim().split(/\s+/));
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}
