// One benchmark run: a fresh control plane with an audit log, the simulated machines (all
// declared, none booted), the bench's own watch, the approver under test; then the machines
// boot (a burst, or one by one), and the run ends when every machine's Node is Ready. In a
// `real-` scenario the machines are real kubelets (test/env/kubelet.ts), started in a burst.
import { copyFile as cp_, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ACTION_USER, startControlPlane } from '../../test/env/controlplane.ts';
import { seededRandom } from '../../test/sim/common.ts';
import { startInstall } from '../../test/sim/install.ts';
import { startRealKubelets, type RealKubelet } from '../../test/env/kubelet.ts';
import { parseCertificateRequest } from '../../src/identity/x509.ts';
import { auditArgs, breakdown, readAudit, type RequestBreakdown } from './audit.ts';
import { Observer } from './observer.ts';
import { startSystem, type Machine, type SystemKind } from './systems.ts';

export interface Scenario {
  id: string;
  title: string;
  machines: number;
  /** ms after the start at which each machine boots; all 0 for a burst */
  arrivals: number[];
  /** real kubelets instead of simulated ones (a burst) */
  real?: boolean;
}

export function burst(machines: number): Scenario {
  return { id: `burst-${machines}`, title: `${machines} machines, burst`, machines, arrivals: new Array<number>(machines).fill(0) };
}

/** Real kubelets started at once: the time runs from the kubelets' start (a process each) to every Node Ready. */
export function realBurst(machines: number): Scenario {
  return { ...burst(machines), id: `real-burst-${machines}`, title: `${machines} real kubelets, burst (from the kubelets' start)`, real: true };
}

/** Machines booting one by one, at exponential (Poisson) intervals of mean `meanMs`, seeded. */
export function oneByOne(machines: number, meanMs: number, seed: number): Scenario {
  const random = seededRandom(seed);
  const arrivals: number[] = [];
  let t = 0;
  for (let i = 0; i < machines; i++) {
    if (i > 0) t += Math.round(-Math.log(1 - random()) * meanMs);
    arrivals.push(t);
  }
  return { id: `one-by-one-${machines}`, title: `${machines} machines, one by one (mean gap ${meanMs / 1000} s, seed ${seed})`, machines, arrivals };
}

export interface RunResult {
  scenario: string;
  system: SystemKind;
  /** ms from creation to approval observed, per CSR */
  client: number[];
  serving: number[];
  /** for CSRs still pending when a capped run was stopped: how long they had been pending (lower bounds) */
  clientPending: number[];
  servingPending: number[];
  /** CSRs the sim filed that were never seen approved */
  unapproved: number;
  /** the run was stopped after this many ms, before every Node was Ready */
  cappedAtMs?: number;
  /** approvals per second from the first CSR created to the last approval observed */
  throughput: number;
  /** first machine booted -> last Node Ready, ms */
  allReadyMs: number;
  /** last Node Ready -> action process exit, ms */
  readyToExitMs?: number;
  /** action or raw-loop spawn -> its first request received by the API server, ms */
  coldStartMs?: number;
  peakRss?: number;
  /** CPU time of the approver's process (the action or the raw loop), ms */
  approverCpuMs?: number;
  requests: RequestBreakdown;
  simCpuMs: number;
  observerCpuMs: number;
  /** the bench process's event-loop delay during the run, p99 and max, ms */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  actionResult?: string;
  actionApproved?: number;
  notes: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function machinesFor(n: number): Machine[] {
  return Array.from({ length: n }, (_, i) => ({ name: `worker-${i}`, address: `10.1.${Math.floor(i / 200)}.${10 + (i % 200)}` }));
}

/**
 * capMs: stop the run this long after the first boot even if not every Node is Ready (the shell
 * loops at a thousand machines would take a quarter of an hour each); figures then are bounds.
 */
export async function runOne(scenario: Scenario, kind: SystemKind, opts: { kubectl?: string; baselineBundle?: string; capMs?: number; log: (line: string) => void }): Promise<RunResult> {
  const auditDir = await mkdtemp(join(tmpdir(), 'ofi-bench-audit-'));
  const audit = await auditArgs(auditDir);
  // The signer's client is given OpenShift's kube-controller-manager rate limits (150 QPS, burst
  // 300); with the upstream default of 20 QPS it, not the approver, would set the pace of a burst.
  const cp = await startControlPlane({ apiServerArgs: audit.args, signerArgs: ['--kube-api-qps=150', '--kube-api-burst=300'] }).catch(async (e: unknown) => {
    await rm(auditDir, { recursive: true, force: true });
    throw e;
  });
  const machines = machinesFor(scenario.machines);
  const names = machines.map((m) => m.name);
  const notes: string[] = [];
  let sim: Awaited<ReturnType<typeof startInstall>> | undefined;
  let system: ReturnType<typeof startSystem> | undefined;
  let observer: Observer | undefined;
  const timers: NodeJS.Timeout[] = [];
  let real: RealKubelet[] = [];
  try {
    sim = await startInstall(cp, {
      controlPlaneNodes: 3,
      workers: scenario.real ? [] : machines.map((m) => ({ name: m.name, addresses: [m.address], neverBoots: true })),
      registry: false,
      maxConcurrentRequests: 64,
    });
    // Creation time of a CSR: the moment the simulated kubelet's POST returned (the sim emits
    // the event synchronously in the response handler).
    const postReturned = new Map<string, number>();
    const readyAt = new Map<string, number>();
    sim.log.subscribe((e) => {
      if ((e.kind === 'client-csr-created' || e.kind === 'serving-csr-created') && e.csr) postReturned.set(e.csr, performance.now());
      else if (e.kind === 'ready') readyAt.set(e.subject, performance.now());
    });
    observer = new Observer({ url: cp.url, caPem: cp.caPem, token: cp.adminToken });
    await observer.start();

    system = startSystem(kind, cp, machines, { auditLog: audit.log, actionUser: ACTION_USER, kubectl: opts.kubectl, baselineBundle: opts.baselineBundle });
    await system.ready;
    // A shell loop is at a random point of its sleep when machines boot: start the scenario
    // half a period after its first list, the expected phase.
    if (kind === 'loop-10s') await sleep(5000);
    if (kind === 'loop-1s') await sleep(500);

    const simCpu0 = sim.cpuMs();
    const observerCpu0 = observer.cpuMs;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const t0 = performance.now();
    const s = sim;
    if (scenario.real) real = await startRealKubelets(cp, machines.map((m) => ({ name: m.name, addresses: [m.address] })));
    else scenario.arrivals.forEach((at, i) => {
      const boot = () => void s.kubelet(names[i]!).start().catch(() => {}); // failures surface in whenReady
      if (at === 0) boot();
      else timers.push(setTimeout(boot, at));
    });
    let cappedAt: number | undefined;
    try {
      if (scenario.real) await allReady(cp.admin, observer, names, opts.capMs ?? 10 * 60_000);
      else await sim.whenReady(names, opts.capMs ?? 10 * 60_000);
    } catch (e) {
      if (!opts.capMs) throw e;
      cappedAt = performance.now();
      const ready = scenario.real ? (await realDone(cp.admin, observer)).size : sim.kubelets.filter((k) => k.phase === 'ready').length;
      notes.push(`stopped ${opts.capMs / 1000} s after the first boot with ${ready} of ${names.length} Nodes Ready: figures marked ≥ are lower bounds`);
    }
    const tAllReady = performance.now();
    let exitedAt: number | undefined;
    let actionResult: string | undefined;
    let actionApproved: number | undefined;
    if (system.done) {
      const done = system.done;
      const finished = await Promise.race([done, sleep(60_000).then(() => undefined)]);
      if (!finished) notes.push('the action did not exit within 60 s of the last Node Ready');
      else {
        exitedAt = system.exitedAt();
        actionResult = finished.outputs.result;
        try {
          actionApproved = (finished.json('approved-csrs') as string[]).length;
        } catch {
          // reported below as missing
        }
        if (finished.exitCode !== 0) notes.push(`action exit ${finished.exitCode}: ${finished.stdout.split('\n').filter((l) => l.startsWith('::error')).join(' ')}`);
      }
    }
    delay.disable();
    const simCpuMs = sim.cpuMs() - simCpu0;
    const observerCpuMs = observer.cpuMs - observerCpu0;
    const approverCpuMs = system.cpuMs();
    await system.stop();
    const peakRss = system.peakRss();
    await sim.stop();
    await observer.stop();

    const client: number[] = [];
    const serving: number[] = [];
    const clientPending: number[] = [];
    const servingPending: number[] = [];
    let unapproved = 0;
    let firstCreated = Infinity;
    let lastApproved = 0;
    const realByNode = scenario.real ? await realCsrs(cp.admin) : new Map<string, RealCsrs>();
    for (const k of scenario.real ? realByNode.values() : sim.kubelets) {
      for (const [list, into, pending] of [[k.clientCsrs, client, clientPending], [k.servingCsrs, serving, servingPending]] as const) {
        for (const csr of list) {
          const seen = observer.seen.get(csr);
          const returned = postReturned.get(csr);
          // The earlier of the POST returning and the bench watch seeing it: either proves it exists.
          const created = Math.min(returned ?? Infinity, seen ?? Infinity);
          const approved = observer.approved.get(csr);
          if (approved === undefined || !Number.isFinite(created)) {
            if (cappedAt !== undefined && Number.isFinite(created)) pending.push(cappedAt - created);
            else unapproved++;
            continue;
          }
          into.push(approved - created);
          firstCreated = Math.min(firstCreated, created);
          lastApproved = Math.max(lastApproved, approved);
        }
      }
    }
    const approvals = client.length + serving.length;
    const realDoneAt = scenario.real ? await realDone(cp.admin, observer) : undefined;
    const lastReady = Math.max(...names.map((n) => (realDoneAt ? realDoneAt.get(n) : readyAt.get(n)) ?? NaN));

    const requests = await readAudit(audit.log);
    const mine = requests.filter((r) => (kind.startsWith('loop') ? r.userAgent.startsWith('kubectl') : r.user === ACTION_USER));
    const first = mine[0];
    const result: RunResult = {
      scenario: scenario.id,
      system: kind,
      client,
      serving,
      unapproved,
      clientPending,
      servingPending,
      cappedAtMs: cappedAt !== undefined ? cappedAt - t0 : undefined,
      throughput: approvals / (((cappedAt ?? lastApproved) - firstCreated) / 1000),
      allReadyMs: tAllReady - t0,
      readyToExitMs: exitedAt !== undefined ? exitedAt - lastReady : undefined,
      coldStartMs: (kind === 'action' || kind === 'baseline') && first ? first.received - system.spawnedAt : undefined,
      peakRss: peakRss || undefined,
      approverCpuMs: approverCpuMs || undefined,
      requests: breakdown(mine),
      simCpuMs,
      observerCpuMs,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
      actionResult,
      actionApproved,
      notes,
    };
    if (unapproved) notes.push(`${unapproved} CSRs filed by the simulator were never seen approved`);
    opts.log(`${scenario.id} ${kind}: ready in ${(result.allReadyMs / 1000).toFixed(2)} s, client p50 ${client.length ? summaryP50(client).toFixed(1) : '—'} ms, serving p50 ${serving.length ? summaryP50(serving).toFixed(1) : '—'} ms, ${result.requests.total} requests${result.readyToExitMs !== undefined ? `, exit ${result.readyToExitMs.toFixed(0)} ms after Ready` : ''}`);
    return result;
  } catch (e) {
    if (system) opts.log(`--- output of ${kind} ---\n${system.output().slice(-5000)}`);
    throw e;
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(real.map((k) => k.remove()));
    await system?.stop().catch(() => {});
    await sim?.stop().catch(() => {});
    await observer?.stop().catch(() => {});
    await cp.stop();
    // OFI_BENCH_KEEP_AUDIT=<dir> keeps each run's audit log there, for a closer look.
    if (process.env.OFI_BENCH_KEEP_AUDIT) {
      await cp_(audit.log, join(process.env.OFI_BENCH_KEEP_AUDIT, `${scenario.id}-${kind}.audit.log`)).catch(() => {});
      if (system) await writeFile(join(process.env.OFI_BENCH_KEEP_AUDIT, `${scenario.id}-${kind}.out`), system.output());
      if (observer && sim) {
        const epoch = (t: number | undefined) => (t === undefined ? undefined : performance.timeOrigin + t);
        const o = observer;
        const csrs = sim.kubelets.flatMap((k) => [...k.clientCsrs.map((n) => [n, 'client']), ...k.servingCsrs.map((n) => [n, 'serving'])]);
        await writeFile(join(process.env.OFI_BENCH_KEEP_AUDIT, `${scenario.id}-${kind}.csrs.json`), JSON.stringify(csrs.map(([n, phase]) => ({ name: n, phase, seen: epoch(o.seen.get(n!)), approved: epoch(o.approved.get(n!)), issued: epoch(o.issued.get(n!)) }))));
      }
    }
    await rm(auditDir, { recursive: true, force: true });
  }
}

interface RealCsrs { clientCsrs: string[]; servingCsrs: string[] }
type Admin = { request<T>(method: string, path: string): Promise<T> };

/** The real kubelets' CSRs by node (from their CN) and kind, read from the cluster (the simulator keeps its own lists). */
async function realCsrs(admin: Admin): Promise<Map<string, RealCsrs>> {
  const list = await admin.request<{ items: { metadata: { name: string }; spec: { signerName: string; request: string } }[] }>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests');
  const byNode = new Map<string, RealCsrs>();
  for (const csr of list.items) {
    const node = parseCertificateRequest(csr.spec.request).commonNames[0]?.replace(/^system:node:/, '') ?? '';
    const entry = byNode.get(node) ?? { clientCsrs: [], servingCsrs: [] };
    (csr.spec.signerName === 'kubernetes.io/kubelet-serving' ? entry.servingCsrs : entry.clientCsrs).push(csr.metadata.name);
    byNode.set(node, entry);
  }
  return byNode;
}

/**
 * When each real machine was done, as a simulated one is: its Node seen Ready and its first
 * serving certificate issued (a real Node is Ready before it has one).
 */
async function realDone(admin: Admin, observer: Observer): Promise<Map<string, number>> {
  const done = new Map<string, number>();
  for (const [node, csrs] of await realCsrs(admin)) {
    const ready = observer.ready.get(node);
    const issued = Math.min(...csrs.servingCsrs.map((c) => observer.issued.get(c) ?? Infinity));
    if (ready !== undefined && Number.isFinite(issued)) done.set(node, Math.max(ready, issued));
  }
  return done;
}

/** Polls until every named machine is done (realDone). */
async function allReady(admin: Admin, observer: Observer, names: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const done = await realDone(admin, observer);
    if (names.every((n) => done.has(n))) return;
    if (performance.now() > deadline) throw new Error(`machines not done within ${timeoutMs} ms: ${names.filter((n) => !done.has(n)).join(', ')}`);
    await sleep(100);
  }
}

function summaryP50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}
