// npm run bench: the action against the documented shell loop and the raw approval limit, on the
// real test control plane with simulated kubelets. Prints the table and writes BENCHMARKS.md.
//
//   npm run bench                                   every scenario and system (writes BENCHMARKS.md)
//   npm run bench -- --baseline=/tmp/old/index.js   the same, with an earlier bundle as system `baseline`
//   npm run bench -- --scenarios=burst-10 --systems=action,raw   a subset (prints only)
//   npm run bench -- --render=/tmp/ofi-bench-results.json        the report again from saved figures
//   npm run bench -- --repeat=3 …                   each system 3 times per scenario, interleaved; medians
//
// For a closer look at one approver: OFI_BENCH_KEEP_AUDIT=<dir> keeps each run's audit log, the
// action's output and per-CSR times; OFI_BENCH_NODE_OPTIONS passes NODE_OPTIONS to the action
// and the baseline (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`); OFI_BENCH_RUNNER_DEBUG=1 turns on
// their debug lines.
//
// Method (also written to BENCHMARKS.md): see scripts/bench/method.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBinaries } from '../test/env/ensure.ts';
import { BUNDLE } from '../test/integration/harness.ts';
import { describeBundle, stageBaseline, type BundleInfo } from './bench/bundles.ts';
import { render } from './bench/report.ts';
import { burst, oneByOne, realBurst, runOne, type RunResult, type Scenario } from './bench/run.ts';
import { realKubeletsUnavailable } from '../test/env/kubelet.ts';
import { ensureKubectl, type SystemKind } from './bench/systems.ts';

// Real kubelets where they can run (root, unshare): 10 in a burst, timed from their start.
const SCENARIOS: Scenario[] = [burst(10), burst(100), burst(1000), burst(2000), oneByOne(20, 1000, 20240601), ...(realKubeletsUnavailable() ? [] : [realBurst(10)])];
/** The systems of a full run; `baseline` joins them (right after the action) when --baseline is given. */
const SYSTEMS: SystemKind[] = ['action', 'raw', 'loop-1s', 'loop-10s'];
const COLUMN_ORDER: SystemKind[] = ['action', 'baseline', 'raw', 'loop-1s', 'loop-10s'];
/** The shell loops approve about 2.5 CSRs a second (kubectl's client-side limit of 5 requests/s, a GET and a PUT per CSR): at a thousand machines they are stopped after this long. */
const LOOP_CAP_MS = 120_000;
/** Above this many machines the capped loops would only repeat the 1000-machine lower bounds (see the method text). */
const LOOPS_UP_TO_MACHINES = 1000;

interface Saved { startedAt: string; minutes: number; bundles?: { action: BundleInfo; baseline?: BundleInfo }; bundleBytes?: number; results: RunResult[] }

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const fail = (message: string): never => {
  console.error(`bench: ${message}`);
  process.exit(2);
};

const rendering = arg('render');
const baselineArg = arg('baseline');
const askedScenarios = arg('scenarios')?.split(',');
const askedSystems = arg('systems')?.split(',');
const repeat = Number(arg('repeat') ?? 1);
if (!Number.isInteger(repeat) || repeat < 1) fail(`--repeat=${arg('repeat')}: a whole number of runs, at least 1`);
for (const id of askedScenarios ?? []) if (!SCENARIOS.some((s) => s.id === id)) fail(`no scenario ${id} (there are ${SCENARIOS.map((s) => s.id).join(', ')})`);
for (const s of askedSystems ?? []) if (!COLUMN_ORDER.includes(s as SystemKind)) fail(`no system ${s} (there are ${COLUMN_ORDER.join(', ')})`);
if (!rendering && askedSystems?.includes('baseline') && !baselineArg) fail('the baseline system needs --baseline=<an older dist/index.js>');

// The figures of every run are saved as they come (OFI_BENCH_RESULTS, default in the temp dir);
// `--render=<file>` prints and writes the report from such a file without running anything.
const saved = rendering ? (JSON.parse(readFileSync(rendering, 'utf8')) as Saved) : undefined;
const available: SystemKind[] = saved ? COLUMN_ORDER : baselineArg ? COLUMN_ORDER.filter((s) => s === 'baseline' || SYSTEMS.includes(s)) : SYSTEMS;
const systems = askedSystems ? available.filter((s) => askedSystems.includes(s)) : available;
const scenarios = askedScenarios ? SCENARIOS.filter((s) => askedScenarios.includes(s.id)) : SCENARIOS;

const started = performance.now();
const bins = await ensureBinaries();
const usesLoops = saved ? saved.results.some((r) => r.system.startsWith('loop')) : systems.some((s) => s.startsWith('loop'));
const kubectl = usesLoops ? await ensureKubectl() : undefined;

const resultsFile = process.env.OFI_BENCH_RESULTS ?? join(tmpdir(), 'ofi-bench-results.json');
const bundles = saved?.bundles ?? {
  action: saved ? { path: 'dist/index.js', bytes: saved.bundleBytes ?? 0 } : { ...describeBundle(BUNDLE), path: 'dist/index.js' },
  baseline: baselineArg ? describeBundle(baselineArg) : undefined,
};
const baselineBundle = !saved && baselineArg ? stageBaseline(baselineArg) : undefined;
if (bundles.baseline) log(`baseline ${bundles.baseline.path}: ${bundles.baseline.bytes} bytes, sha256 ${bundles.baseline.sha256}${bundles.baseline.committed ? `, ${bundles.baseline.committed}` : ''}`);
if (bundles.baseline && bundles.baseline.sha256 === bundles.action.sha256) log('the baseline is the same file as dist/index.js: every ratio to it measures noise only');

const startedAt = saved?.startedAt ?? new Date().toISOString();
const results: RunResult[] = saved ? saved.results.filter((r) => systems.includes(r.system) && scenarios.some((s) => s.id === r.scenario)) : [];
for (const [index, scenario] of (saved ? [] : scenarios).entries()) {
  if (runOrder(scenario, index, systems).length < systems.length) log(`${scenario.id}: the shell loops are left out above ${LOOPS_UP_TO_MACHINES} machines`);
  // Repeated runs go round the systems, the action and the baseline swapping places each round
  // (A B B A …), rather than one system's runs back to back.
  const rounds = Array.from({ length: repeat }, (_, round) => runOrder(scenario, index + round, systems).map((system) => ({ system, round })));
  for (const { system, round } of rounds.flat()) {
    log(`${scenario.id}: ${system}${repeat > 1 ? ` (run ${round + 1} of ${repeat})` : ''}`);
    const capMs = system.startsWith('loop') && scenario.machines >= 1000 ? LOOP_CAP_MS : undefined;
    const t0 = performance.now();
    results.push(await runOne(scenario, system, { kubectl, baselineBundle, capMs, log }));
    log(`${scenario.id}: ${system} took ${((performance.now() - t0) / 1000).toFixed(1)} s in all (control plane, simulator and run)`);
    writeFileSync(resultsFile, JSON.stringify({ startedAt, minutes: (performance.now() - started) / 60_000, bundles, results } satisfies Saved));
  }
}
const elapsedMin = saved?.minutes ?? (performance.now() - started) / 60_000;
if (!saved) log(`figures saved in ${resultsFile}`);

const reported = scenarios.filter((sc) => results.some((r) => r.scenario === sc.id));
const report = render({
  results,
  scenarios: reported,
  systemOrder: COLUMN_ORDER,
  startedAt,
  minutes: elapsedMin,
  action: bundles.action,
  baseline: results.some((r) => r.system === 'baseline') ? bundles.baseline : undefined,
  kubeVersion: bins.kubeVersion,
  etcdVersion: etcdVersion(),
  machine: machine(),
  loopCapMs: LOOP_CAP_MS,
  loopsUpToMachines: LOOPS_UP_TO_MACHINES,
});
console.log(`\n${report}`);
// BENCHMARKS.md only from a run with every scenario and every system of a full run (the baseline
// is optional), measured now or saved.
const complete = SCENARIOS.every((sc) => runOrder(sc, 0, SYSTEMS).every((s) => results.some((r) => r.scenario === sc.id && r.system === s)));
if (complete) {
  writeFileSync('BENCHMARKS.md', report);
  log('wrote BENCHMARKS.md');
} else {
  log('a subset was run: BENCHMARKS.md left as it is');
}
process.exit(0);

// ---------------------------------------------------------------------------------------------

/**
 * The systems of one scenario in the order they run: the shell loops left out above
 * LOOPS_UP_TO_MACHINES; the action and the baseline one right after the other, the baseline first
 * in every other scenario, so neither always runs on the warmer machine.
 */
function runOrder(scenario: Scenario, index: number, among: SystemKind[]): SystemKind[] {
  const order = among.filter((s) => !(s.startsWith('loop') && scenario.machines > LOOPS_UP_TO_MACHINES));
  const [a, b] = [order.indexOf('action'), order.indexOf('baseline')];
  if (index % 2 === 1 && a >= 0 && b >= 0) [order[a], order[b]] = [order[b]!, order[a]!];
  return order;
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
  ];
}
