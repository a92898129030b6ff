// npm run bench: the action against the documented shell loop and the raw approval limit, on the
// real test control plane with simulated kubelets. Prints the table and writes BENCHMARKS.md.
//
//   npm run bench                                   every scenario and system (writes BENCHMARKS.md)
//   npm run bench -- --scenarios=burst-10 --systems=action,raw   a subset (prints only)
//   npm run bench -- --render=/tmp/ofi-bench-results.json        the report again from saved figures
//
// For a closer look at one approver: OFI_BENCH_KEEP_AUDIT=<dir> keeps each run's audit log, the
// action's output and per-CSR times; OFI_BENCH_NODE_OPTIONS passes NODE_OPTIONS to the action
// (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`); OFI_BENCH_RUNNER_DEBUG=1 turns on its debug lines.
//
// Method (also written to BENCHMARKS.md): see describeMethod() below.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBinaries } from '../test/env/ensure.ts';
import { BUNDLE } from '../test/integration/harness.ts';
import { burst, oneByOne, runOne, type RunResult, type Scenario } from './bench/run.ts';
import { bound, mb, ms, num, ratio, summarize, table, type Figure, type Percentile } from './bench/stats.ts';
import { ensureKubectl, type SystemKind } from './bench/systems.ts';

const SCENARIOS: Scenario[] = [burst(10), burst(100), burst(1000), oneByOne(20, 1000, 20240601)];
const SYSTEMS: SystemKind[] = ['action', 'raw', 'loop-1s', 'loop-10s'];
/** The shell loops approve about 2.5 CSRs a second (kubectl's client-side limit of 5 requests/s, a GET and a PUT per CSR): at a thousand machines they are stopped after this long. */
const LOOP_CAP_MS = 120_000;
const SYSTEM_TITLES: Record<SystemKind, string> = { action: 'action', raw: 'raw loop', 'loop-1s': 'loop 1 s', 'loop-10s': 'loop 10 s' };

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const scenarios = arg('scenarios') ? SCENARIOS.filter((s) => arg('scenarios')!.split(',').includes(s.id)) : SCENARIOS;
const systems = arg('systems') ? SYSTEMS.filter((s) => arg('systems')!.split(',').includes(s)) : SYSTEMS;
const full = scenarios.length === SCENARIOS.length && systems.length === SYSTEMS.length;
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const started = performance.now();
const bins = await ensureBinaries();
const kubectl = systems.some((s) => s.startsWith('loop')) ? await ensureKubectl() : undefined;

// The figures of every run are saved as they come (OFI_BENCH_RESULTS, default in the temp dir);
// `--render=<file>` prints and writes the report from such a file without running anything.
const resultsFile = process.env.OFI_BENCH_RESULTS ?? join(tmpdir(), 'ofi-bench-results.json');
const rendering = arg('render');
const saved = rendering ? (JSON.parse(readFileSync(rendering, 'utf8')) as { startedAt: string; minutes: number; bundleBytes: number; results: RunResult[] }) : undefined;
const bundleBytes = saved?.bundleBytes ?? statSync(BUNDLE).size;
const startedAt = saved?.startedAt ?? new Date().toISOString();
const results: RunResult[] = saved?.results ?? [];
for (const scenario of rendering ? [] : scenarios) {
  for (const system of systems) {
    log(`${scenario.id}: ${system}`);
    const capMs = system.startsWith('loop') && scenario.machines >= 1000 ? LOOP_CAP_MS : undefined;
    results.push(await runOne(scenario, system, { kubectl, capMs, log }));
    writeFileSync(resultsFile, JSON.stringify({ startedAt, minutes: (performance.now() - started) / 60_000, bundleBytes, results }));
  }
}
const elapsedMin = saved?.minutes ?? (performance.now() - started) / 60_000;
if (!saved) log(`figures saved in ${resultsFile}`);

const report = render(results, elapsedMin);
console.log(`\n${report}`);
if (full) {
  writeFileSync('BENCHMARKS.md', report);
  log('wrote BENCHMARKS.md');
} else {
  log('a subset was run: BENCHMARKS.md left as it is');
}
process.exit(0);

// ---------------------------------------------------------------------------------------------

function get(scenario: string, system: SystemKind): RunResult | undefined {
  return results.find((r) => r.scenario === scenario && r.system === system);
}

interface Row { label: string; value: (r: RunResult) => Figure; format: (v: number | undefined) => string; ratios?: boolean }

function fig(v: number | undefined, atLeast = false): Figure {
  return { v, atLeast };
}

function latency(r: RunResult | undefined, kind: 'client' | 'serving', p: Percentile): Figure {
  return r ? summarize(r[kind], kind === 'client' ? r.clientPending : r.servingPending)[p] : { v: undefined };
}

function approvals(r: RunResult): number {
  return r.client.length + r.serving.length;
}

function rows(): Row[] {
  const lat = (kind: 'client' | 'serving', p: Percentile): Row => ({ label: `${kind} latency ${p}`, value: (r) => latency(r, kind, p), format: ms, ratios: true });
  return [
    lat('client', 'p50'), lat('client', 'p95'), lat('client', 'p99'), lat('client', 'max'),
    lat('serving', 'p50'), lat('serving', 'p95'), lat('serving', 'p99'), lat('serving', 'max'),
    { label: 'CSRs approved (client + serving)', value: (r) => fig(approvals(r)), format: (v) => num(v, 0) },
    { label: 'throughput, approvals/s', value: (r) => fig(r.throughput), format: (v) => num(v, 1), ratios: true },
    { label: 'first boot → all Nodes Ready', value: (r) => fig(r.allReadyMs, r.cappedAtMs !== undefined), format: ms, ratios: true },
    { label: 'API requests per approved CSR, beyond initial list + watch', value: (r) => fig(r.requests.beyondListWatch / approvals(r)), format: (v) => num(v, 2), ratios: true },
    { label: 'API requests, all', value: (r) => fig(r.requests.total), format: (v) => num(v, 0) },
    { label: 'last Node Ready → action exit', value: (r) => fig(r.readyToExitMs), format: ms },
    { label: 'peak RSS (VmHWM)', value: (r) => fig(r.peakRss), format: mb, ratios: true },
    { label: 'approver process CPU time', value: (r) => fig(r.approverCpuMs), format: ms, ratios: true },
    { label: 'cold start (spawn → first API request)', value: (r) => fig(r.coldStartMs), format: ms },
    { label: 'simulator CPU during the run', value: (r) => fig(r.simCpuMs), format: ms },
    { label: 'bench watch CPU during the run', value: (r) => fig(r.observerCpuMs), format: ms },
    { label: 'bench event-loop delay p99', value: (r) => fig(r.loopDelayP99Ms), format: ms },
  ];
}

function scenarioTable(scenario: Scenario): string {
  const baselines = systems.filter((s) => s !== 'action');
  const withAction = systems.includes('action');
  const header = ['figure', ...systems.map((s) => SYSTEM_TITLES[s]), ...(withAction ? baselines.map((b) => `action ÷ ${SYSTEM_TITLES[b]}`) : [])];
  const body = rows().map((row) => {
    const values = systems.map((s) => {
      const r = get(scenario.id, s);
      return r ? row.value(r) : { v: undefined };
    });
    const action = withAction ? values[systems.indexOf('action')]! : { v: undefined };
    const ratios = withAction ? baselines.map((b) => (row.ratios ? ratio(action, values[systems.indexOf(b)]!) : '')) : [];
    return [row.label, ...values.map((v) => bound(v, row.format)), ...ratios];
  });
  return table(header, body);
}

interface Goal { goal: string; figure: string; met: boolean | undefined }

function goals(): Goal[] {
  const out: Goal[] = [];
  const have = (s: SystemKind) => systems.includes(s) && systems.includes('action');
  for (const sc of scenarios) {
    const a = get(sc.id, 'action');
    if (!a) continue;
    for (const kind of ['client', 'serving'] as const) {
      if (have('loop-10s')) {
        const loop = latency(get(sc.id, 'loop-10s'), kind, 'p50');
        const f = (loop.v ?? NaN) / (latency(a, kind, 'p50').v ?? NaN);
        out.push({ goal: `${sc.id}: ${kind} median ≥ 20× lower than the 10 s loop`, figure: `${loop.atLeast ? '≥ ' : ''}${num(f, 1)}× lower`, met: Number.isFinite(f) ? f >= 20 : undefined });
      }
      if (have('raw')) {
        for (const q of ['p50', 'p99'] as const) {
          const f = (latency(a, kind, q).v ?? NaN) / (latency(get(sc.id, 'raw'), kind, q).v ?? NaN);
          out.push({ goal: `${sc.id}: ${kind} ${q} ≤ 1.5× the raw loop`, figure: `${num(f, 3)}×`, met: Number.isFinite(f) ? f <= 1.5 : undefined });
        }
      }
    }
    const perCsr = a.requests.beyondListWatch / approvals(a);
    out.push({ goal: `${sc.id}: ≤ 1.2 API requests per approved CSR beyond list + watch`, figure: num(perCsr, 2), met: perCsr <= 1.2 });
    out.push({ goal: `${sc.id}: exit within 1 s of the last Node Ready`, figure: ms(a.readyToExitMs), met: a.readyToExitMs === undefined ? false : a.readyToExitMs <= 1000 });
    out.push({ goal: `${sc.id}: cold start < 300 ms`, figure: ms(a.coldStartMs), met: a.coldStartMs === undefined ? undefined : a.coldStartMs < 300 });
    if (sc.machines >= 1000) {
      if (have('raw')) {
        const f = a.throughput / get(sc.id, 'raw')!.throughput;
        out.push({ goal: `${sc.id}: throughput ≥ 80% of the raw loop`, figure: `${num(f * 100, 0)}%`, met: f >= 0.8 });
      }
      out.push({ goal: `${sc.id}: peak RSS < 150 MB`, figure: mb(a.peakRss), met: a.peakRss === undefined ? undefined : a.peakRss < 150 * 1024 * 1024 });
    }
  }
  out.push({ goal: 'bundle < 3 MB', figure: `${bundleBytes} bytes`, met: bundleBytes < 3_000_000 });
  return out;
}

function etcdVersion(): string {
  try {
    return /etcd Version: (\S+)/.exec(execFileSync(bins.etcd, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function machine(): string[] {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const version = (bin: string, args: string[]) => {
    try {
      return execFileSync(bin, args, { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {
      return 'unknown';
    }
  };
  return [
    `- CPU: ${cpus().length} × ${cpuModel} (nproc ${version('nproc', [])})`,
    `- memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- kernel: ${version('uname', ['-sr'])}`,
    `- Node: ${process.version} (the action, the simulator and the bench)`,
    `- kube-apiserver and kube-controller-manager ${bins.kubeVersion} (${version(bins.apiserver, ['--version'])}), etcd ${etcdVersion()}, built from their Go modules (\`test/env/go/\`)`,
    ...(kubectl ? [`- kubectl (shell loops): ${version(kubectl, ['version', '--client'])}`] : []),
    `- bundle: dist/index.js, ${bundleBytes} bytes`,
  ];
}

function readingNotes(): string {
  return `## Reading the figures

- **The shell loops are paced by kubectl, not by their sleep.** kubectl limits itself to 5
  requests/s (burst 10; still so in 1.34), and \`kubectl certificate approve\` makes a GET and a PUT per CSR, so a loop
  approves about 2.5 CSRs a second once a few are pending. At 100 machines the 10 s loop takes only
  about 15–20% longer than the 1 s loop; at 1000 both approve some 300 CSRs in two minutes, and
  serving requests wait behind the whole client backlog.
- **The raw loop** lists every CSR again as soon as it has approved what it saw. It keeps up in a
  burst, but it costs the API server a full list every few milliseconds when nothing happens: see its
  request count and CPU time when machines join one by one.
- **Where the action's time goes in a burst** (measured with per-CSR traces against the audit log):
  the API server answers an approval in 10–20 ms; the rest of the latency is the queue of approvals
  waiting for one of the 16 slots. Signature and identity checks cost about 0.15 ms per CSR
  uncontended. At 10 machines every figure is a few tens of milliseconds and the action's first
  approvals run through code the JIT has not compiled yet: the client p50 ratio to the raw loop
  ranged from 1.5× to 2.4× over the last runs, for a difference of 20–35 ms.
- **Serving requests in a 1000-machine burst** are decided as soon as they arrive (p50 about
  100 ms), but those created while the client backlog drains queue behind it (p95 2–3 s).
- **Kubernetes 1.34 against 1.20** (the earlier test bed): the 1.34 API server runs the Node
  authorizer, NodeRestriction and priority-and-fairness; the first run on it (2026-12-01) had the
  action's client p50 at 100 machines at 2.2× the raw loop (0.87× on 1.20) while the bench's own
  event loop lagged 100 ms (27 ms during the raw loop's run), a sign of load from outside the
  run on this shared 2-core machine; 10 and 1000 machines stayed within the goals. Re-run on an
  idle machine before reading more into it.
- **Peak RSS** is mostly fixed cost: the action at rest with its bundle loaded is about 90–100 MB
  (97–100 MB at 10 machines; 170–190 MB at 1000 over the runs on 1.20 and 1.34). At 1000 machines V8's young generation grows to 64 MB (V8 sizes it from
  the machine's memory, 23.5 GiB here); the old generation holds 25–45 MB. With
  \`NODE_OPTIONS=--max-semi-space-size=8\` the 1000-machine peak was 158 MB in a separate run; a
  JavaScript action cannot pass V8 flags itself (\`v8.setFlagsFromString\` at run time does not
  resize the young generation, measured).
`;
}

function describeMethod(): string {
  return `## Method

Each run (one scenario × one approver) gets a fresh control plane (\`test/env/controlplane.ts\`:
etcd, kube-apiserver and kube-controller-manager's CSR signer, RBAC on) with an audit log at
Metadata level for every request, and the simulator (\`test/sim/install.ts\`) with 3 control-plane
Nodes Ready and every worker declared but not yet booted. The signer's client gets OpenShift's
kube-controller-manager limits (\`--kube-api-qps=150 --kube-api-burst=300\`): with the upstream
default of 20 requests/s, signing, not approving, would set the pace of a burst. The approver under
test is started and the run waits until it is ready (the action: the API server has answered its
first CSR and Node lists, plus 250 ms for its watches to open; the raw loop: its first list; a shell
loop: its first iteration plus half its sleep, the expected phase of a loop already running when
machines boot). Then the workers boot, all at once (burst) or one by one at seeded exponential
intervals; the run ends when every worker's Node is Ready. The shell loops cannot finish a thousand
machines in reasonable time (kubectl's client-side rate limit of 5 requests/s, and \`kubectl
certificate approve\` makes a GET and a PUT per CSR: about 2.5 approvals/s, some 13 minutes per run),
so at a thousand machines they are stopped ${LOOP_CAP_MS / 1000} s after the first boot; a figure
marked ≥ is then a lower bound (CSRs still pending count with the time they had waited so far),
and a ratio marked ≤ an upper bound.

- **Approvers.** *action*: \`node dist/index.js\`, spawned as a GitHub runner does
  (\`test/integration/harness.ts\`) with the least-privilege identity of \`deploy/rbac.yaml\`,
  \`nodes\` listing every worker with its IP and DNS name, \`wait-for-operators: false\`,
  \`stable-period: 0s\`, \`poll-interval: 10s\` (the default). *loop 10 s / loop 1 s*: the documented
  \`kubectl get csr -o go-template='{{range .items}}{{if not .status}}{{.metadata.name}}{{"\\n"}}{{end}}{{end}}' | xargs --no-run-if-empty kubectl certificate approve\`
  in \`while true; do …; sleep N; done\`, as the admin identity, with a kubectl of the control
  plane's version built from the same wrapper module (\`test/env/go/kube-1.34\`). *raw loop*
  (\`scripts/bench/raw-approver.ts\`, a child process): list all CSRs, PUT \`…/approval\` on every
  pending one, 16 in flight (the action's concurrency), no checks, repeat at once — what the
  server itself allows.
- **Latency** of a CSR: from its creation to the moment the bench's own watch (in the bench
  process, \`performance.now()\`) first delivers it with an \`Approved\` condition. Creation is the
  earlier of the moment the simulated kubelet's POST returned and the bench watch's ADDED
  (\`creationTimestamp\` has whole-second resolution, too coarse). Client and serving CSRs separately;
  nearest-rank percentiles.
- **Throughput**: approved CSRs (client + serving) ÷ (last approval observed − first CSR created).
  In a burst the simulated kubelets file client CSRs as fast as they can (key generation in
  process, 64 requests in flight), and serving CSRs once their Node registered.
- **API requests**: counted by the API server (audit log): the action and the raw loop by their
  user, the shell loops by user agent (\`kubectl/…\`). "Beyond initial list + watch" leaves out
  the first list and first watch of each resource and one-off requests at start (the action's
  SelfSubjectAccessReview preflight, discovery); re-lists, re-watches and approvals count.
- **Last Node Ready → action exit**: from the simulated kubelet's Ready status PATCH returning to
  the action's process exit, with \`stable-period: 0s\` and the action started before the machines.
- **Peak RSS**: \`VmHWM\` of the process from \`/proc/<pid>/status\`, polled every 20 ms.
  **Cold start**: spawn → the first request of the action's identity received by the API server
  (audit \`requestReceivedTimestamp\`, microseconds; same clock).
- **Simulator CPU** (\`sim.cpuMs()\`: key generation, request building, event handling) and the
  **bench watch CPU** are measured in the bench process during the run, with its event-loop delay,
  so a reader can see that the figures are the approvers', not the harness's.
`;
}

function render(all: RunResult[], minutes: number): string {
  const parts: string[] = [];
  parts.push('# Benchmarks\n');
  parts.push(`The action (\`dist/index.js\`) against the documented shell loop (\`sleep 10\` and \`sleep 1\`) and the raw approval limit, on a real Kubernetes ${bins.kubeVersion} control plane (etcd ${etcdVersion()}; Node authorizer, RBAC and NodeRestriction on, as OpenShift 4.21 runs it) with simulated kubelets. Measured ${startedAt.slice(0, 16).replace('T', ' ')} UTC; the whole run took ${minutes.toFixed(1)} minutes.\n`);
  parts.push('Reproduce: `npm ci && npm run bench` (the first run builds the control plane and kubectl from their Go modules, see `test/env/ensure.ts`; `KUBECTL_BIN` points at another kubectl).\n');
  parts.push('## Machine\n');
  parts.push(`${machine().join('\n')}\n`);
  for (const sc of scenarios) {
    parts.push(`## ${sc.title}\n`);
    parts.push(`${scenarioTable(sc)}\n`);
    const notes = all.filter((r) => r.scenario === sc.id && r.notes.length).map((r) => `- ${SYSTEM_TITLES[r.system]}: ${r.notes.join('; ')}`);
    if (notes.length) parts.push(`${notes.join('\n')}\n`);
  }
  parts.push('## Goals\n');
  parts.push(`${table(['goal', 'figure', 'met'], goals().map((g) => [g.goal, g.figure, g.met === undefined ? '—' : g.met ? 'yes' : '**no**']))}\n`);
  parts.push(readingNotes());
  parts.push(describeMethod());
  return parts.join('\n');
}
