// The benchmark's report (printed, and BENCHMARKS.md after a full run), built from the saved
// figures alone, so `--render=` gives the same text as the run that measured them.
import type { BundleInfo } from './bundles.ts';
import { methodText, readingNotes } from './method.ts';
import type { RunResult, Scenario } from './run.ts';
import { bound, mb, ms, num, ratio, summarize, table, type Figure, type Percentile } from './stats.ts';
import type { SystemKind } from './systems.ts';

export interface ReportInput {
  results: RunResult[];
  /** the scenarios to report, in order */
  scenarios: Scenario[];
  /** the column order of the systems (a scenario shows those it has results for) */
  systemOrder: SystemKind[];
  startedAt: string;
  minutes: number;
  action: BundleInfo;
  baseline?: BundleInfo;
  kubeVersion: string;
  etcdVersion: string;
  /** lines describing the machine and the tools */
  machine: string[];
  loopCapMs: number;
  loopsUpToMachines: number;
}

/** The action is "worse than the baseline" when a figure is off by more than this share of the baseline's. */
export const REGRESSION_TOLERANCE = 0.1;

export const SYSTEM_TITLES: Record<SystemKind, string> = { action: 'action', baseline: 'baseline', raw: 'raw loop', 'loop-1s': 'loop 1 s', 'loop-10s': 'loop 10 s' };

interface Row {
  label: string;
  value: (r: RunResult) => Figure;
  format: (v: number | undefined) => string;
  /** shown as action ÷ the raw loop and the shell loops */
  ratios?: boolean;
  /** which way is worse, for the figures of the approver itself (compared with the baseline) */
  worse?: 'higher' | 'lower';
}

function fig(v: number | undefined, atLeast = false): Figure {
  return { v, atLeast };
}

function latency(r: RunResult | undefined, kind: 'client' | 'serving', p: Percentile): Figure {
  return r ? summarize(r[kind], kind === 'client' ? r.clientPending : r.servingPending)[p] : { v: undefined };
}

function approvals(r: RunResult): number {
  return r.client.length + r.serving.length;
}

/** A figure of one system in one scenario: over repeated runs (`--repeat=`), their median. */
type Measured = (pick: (r: RunResult) => Figure) => Figure;
type Lookup = (scenario: string, system: SystemKind) => Measured | undefined;

function runsOf(results: RunResult[], scenario: string, system: SystemKind): RunResult[] {
  return results.filter((r) => r.scenario === scenario && r.system === system);
}

function lookup(results: RunResult[]): Lookup {
  return (scenario, system) => {
    const runs = runsOf(results, scenario, system);
    return runs.length ? (pick) => median(runs.map(pick)) : undefined;
  };
}

/** The median of the known values (the mean of the middle two for an even count); a bound if a value it rests on is one. */
function median(figures: Figure[]): Figure {
  const known = figures.filter((f) => f.v !== undefined && Number.isFinite(f.v)).sort((a, b) => a.v! - b.v!);
  if (!known.length) return { v: undefined };
  const middle = known.length % 2 ? [known[(known.length - 1) / 2]!] : [known[known.length / 2 - 1]!, known[known.length / 2]!];
  return { v: middle.reduce((sum, f) => sum + f.v!, 0) / middle.length, atLeast: middle.some((f) => f.atLeast) };
}

const ROWS: Row[] = (() => {
  const lat = (kind: 'client' | 'serving', p: Percentile): Row => ({ label: `${kind} latency ${p}`, value: (r) => latency(r, kind, p), format: ms, ratios: true, worse: 'higher' });
  return [
    lat('client', 'p50'), lat('client', 'p95'), lat('client', 'p99'), lat('client', 'max'),
    lat('serving', 'p50'), lat('serving', 'p95'), lat('serving', 'p99'), lat('serving', 'max'),
    { label: 'CSRs approved (client + serving)', value: (r) => fig(approvals(r)), format: (v) => num(v, 0), worse: 'lower' },
    { label: 'throughput, approvals/s', value: (r) => fig(r.throughput), format: (v) => num(v, 1), ratios: true, worse: 'lower' },
    { label: 'first boot → all Nodes Ready', value: (r) => fig(r.allReadyMs, r.cappedAtMs !== undefined), format: ms, ratios: true, worse: 'higher' },
    { label: 'API requests per approved CSR, beyond initial list + watch', value: (r) => fig(r.requests.beyondListWatch / approvals(r)), format: (v) => num(v, 2), ratios: true, worse: 'higher' },
    { label: 'API requests, all', value: (r) => fig(r.requests.total), format: (v) => num(v, 0), worse: 'higher' },
    { label: 'last Node Ready → action exit', value: (r) => fig(r.readyToExitMs), format: ms, worse: 'higher' },
    { label: 'peak RSS (VmHWM)', value: (r) => fig(r.peakRss), format: mb, ratios: true, worse: 'higher' },
    { label: 'approver process CPU time', value: (r) => fig(r.approverCpuMs), format: ms, ratios: true, worse: 'higher' },
    { label: 'cold start (spawn → first API request)', value: (r) => fig(r.coldStartMs), format: ms, worse: 'higher' },
    // The harness's own figures: there so a reader can see the load was the approvers', not compared.
    { label: 'simulator CPU during the run', value: (r) => fig(r.simCpuMs), format: ms },
    { label: 'bench watch CPU during the run', value: (r) => fig(r.observerCpuMs), format: ms },
    { label: 'bench event-loop delay p99', value: (r) => fig(r.loopDelayP99Ms), format: ms },
  ];
})();

export function render(input: ReportInput): string {
  const { results, scenarios, baseline, action } = input;
  const get = lookup(results);
  const repeats = Math.max(...results.map((r) => results.filter((o) => o.scenario === r.scenario && o.system === r.system).length));
  const systemsOf = (sc: Scenario) => input.systemOrder.filter((s) => get(sc.id, s));
  const found = regressions(input, get);
  const parts: string[] = [];
  parts.push('# Benchmarks\n');
  parts.push(`The action (\`dist/index.js\`) against the documented shell loop (\`sleep 10\` and \`sleep 1\`) and the raw approval limit${baseline ? ', and against an earlier build of itself (the baseline)' : ''}, on a real Kubernetes ${input.kubeVersion} control plane (etcd ${input.etcdVersion}; Node authorizer, RBAC and NodeRestriction on, as OpenShift 4.21 runs it) with simulated kubelets. Measured ${input.startedAt.slice(0, 16).replace('T', ' ')} UTC; the whole run took ${input.minutes.toFixed(1)} minutes.\n`);
  parts.push('Reproduce: `npm ci && npm run bench` (the first run builds the control plane and kubectl from their Go modules, see `test/env/ensure.ts`; `KUBECTL_BIN` points at another kubectl; `-- --baseline=<older dist/index.js>` adds the baseline).\n');
  parts.push('## Machine\n');
  parts.push(`${[...input.machine, `- bundle: ${bundleLine(action)}`, ...(baseline ? [`- baseline: ${bundleLine(baseline)}${baseline.sha256 === action.sha256 ? ' (**the same file as the action\'s bundle**)' : ''}`] : [])].join('\n')}\n`);
  for (const sc of scenarios) {
    parts.push(`## ${sc.title}\n`);
    if (repeats > 1) parts.push(`Each figure is the median of ${repeats} runs per system.\n`);
    parts.push(`${scenarioTable(systemsOf(sc), (s) => get(sc.id, s))}\n`);
    const notes = results.filter((r) => r.scenario === sc.id && r.notes.length).map((r) => `- ${SYSTEM_TITLES[r.system]}: ${r.notes.join('; ')}`);
    if (notes.length) parts.push(`${notes.join('\n')}\n`);
  }
  if (scenarios.some((sc) => get(sc.id, 'action') && get(sc.id, 'baseline'))) parts.push(regressionSection(found));
  parts.push('## Goals\n');
  parts.push(`${table(['goal', 'figure', 'met'], goals(input, get, found).map((g) => [g.goal, g.figure, g.met === undefined ? '—' : g.met ? 'yes' : '**no**']))}\n`);
  parts.push(readingNotes());
  parts.push(methodText({ loopCapMs: input.loopCapMs, loopsUpToMachines: input.loopsUpToMachines, baseline: baseline !== undefined }));
  return parts.join('\n');
}

function bundleLine(b: BundleInfo): string {
  return `\`${b.path}\`, ${b.bytes} bytes${b.sha256 ? `, sha256 \`${b.sha256}\`` : ''}${b.committed ? ` (${b.committed})` : ''}`;
}

function scenarioTable(systems: SystemKind[], get: (s: SystemKind) => Measured | undefined): string {
  const withAction = systems.includes('action');
  const versus = withAction ? systems.filter((s) => s !== 'action') : [];
  const header = ['figure', ...systems.map((s) => SYSTEM_TITLES[s]), ...versus.map((b) => `action ÷ ${SYSTEM_TITLES[b]}`)];
  const body = ROWS.map((row) => {
    const values = systems.map((s) => get(s)!(row.value));
    const action = values[systems.indexOf('action')]!;
    const ratios = versus.map((b) => ((b === 'baseline' ? row.worse : row.ratios) ? ratio(action, values[systems.indexOf(b)]!) : ''));
    return [row.label, ...values.map((v) => bound(v, row.format)), ...ratios];
  });
  return table(header, body);
}

/** Runs per system before a figure's spread between runs is taken into account. */
const RUNS_FOR_SPREAD = 3;

interface Regression {
  scenario: string;
  row: Row;
  action: Figure;
  baseline: Figure;
  /** The baseline's own runs of this figure, lowest to highest. */
  baselineRuns: number[];
  /**
   * The action's median is worse than the baseline's worst run (or too few runs to tell): the
   * difference is outside the spread the baseline shows against itself.
   */
  beyondSpread: boolean;
}

/** Every figure of every scenario where the action is worse than the baseline by more than the tolerance. */
function regressions(input: ReportInput, get: Lookup): Regression[] {
  const out: Regression[] = [];
  for (const sc of input.scenarios) {
    const a = get(sc.id, 'action');
    const b = get(sc.id, 'baseline');
    if (!a || !b) continue;
    const runs = runsOf(input.results, sc.id, 'baseline');
    for (const row of ROWS) {
      const [fa, fb] = [a(row.value), b(row.value)];
      if (!row.worse || fa.v === undefined || fb.v === undefined || !Number.isFinite(fa.v) || !Number.isFinite(fb.v) || fa.atLeast || fb.atLeast) continue;
      const worse = row.worse === 'higher' ? fa.v > fb.v * (1 + REGRESSION_TOLERANCE) : fa.v < fb.v * (1 - REGRESSION_TOLERANCE);
      if (!worse) continue;
      const baselineRuns = runs.map((r) => row.value(r).v).filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((x, y) => x - y);
      const beyondSpread = baselineRuns.length < RUNS_FOR_SPREAD || (row.worse === 'higher' ? fa.v > baselineRuns.at(-1)! : fa.v < baselineRuns[0]!);
      out.push({ scenario: sc.id, row, action: fa, baseline: fb, baselineRuns, beyondSpread });
    }
  }
  return out;
}

function regressionSection(found: Regression[]): string {
  const head = `## Regressions against the baseline\n\nFigures of the action more than ${REGRESSION_TOLERANCE * 100} % worse than the baseline's in the same run (higher latency, time, request count, RSS or CPU time; lower throughput or fewer approvals). The harness's own figures (simulator, bench watch, event loop) are not compared. With ${RUNS_FOR_SPREAD} or more runs per system, each entry also says whether the action's median is worse than the baseline's worst run, that is, outside the spread the baseline shows against itself.\n`;
  if (!found.length) return `${head}\nNone: no figure of the action is more than ${REGRESSION_TOLERANCE * 100} % worse than the baseline's.\n`;
  const rows = found.map((f) => [
    `${f.scenario}: ${f.row.label}`,
    bound(f.action, f.row.format),
    bound(f.baseline, f.row.format),
    ratio(f.action, f.baseline),
    f.baselineRuns.length ? `${f.row.format(f.baselineRuns[0])} – ${f.row.format(f.baselineRuns.at(-1))}` : '—',
    f.baselineRuns.length < RUNS_FOR_SPREAD ? 'too few runs' : f.beyondSpread ? '**yes**' : 'no',
  ]);
  return `${head}\n${table(['scenario: figure', 'action', 'baseline', 'action ÷ baseline', "baseline's runs", "beyond the baseline's runs"], rows)}\n`;
}

interface Goal { goal: string; figure: string; met: boolean | undefined }

function goals(input: ReportInput, get: Lookup, found: Regression[]): Goal[] {
  const out: Goal[] = [];
  for (const sc of input.scenarios) {
    const a = get(sc.id, 'action');
    if (!a) continue;
    const loop = get(sc.id, 'loop-10s');
    const raw = get(sc.id, 'raw');
    for (const kind of ['client', 'serving'] as const) {
      const p = (q: Percentile) => (r: RunResult) => latency(r, kind, q);
      if (loop) {
        const slower = loop(p('p50'));
        const f = (slower.v ?? NaN) / (a(p('p50')).v ?? NaN);
        out.push({ goal: `${sc.id}: ${kind} median ≥ 20× lower than the 10 s loop`, figure: `${slower.atLeast ? '≥ ' : ''}${num(f, 1)}× lower`, met: Number.isFinite(f) ? f >= 20 : undefined });
      }
      if (raw) {
        for (const q of ['p50', 'p99'] as const) {
          const f = (a(p(q)).v ?? NaN) / (raw(p(q)).v ?? NaN);
          out.push({ goal: `${sc.id}: ${kind} ${q} ≤ 1.5× the raw loop`, figure: `${num(f, 3)}×`, met: Number.isFinite(f) ? f <= 1.5 : undefined });
        }
      }
    }
    const perCsr = a((r) => fig(r.requests.beyondListWatch / approvals(r))).v ?? NaN;
    out.push({ goal: `${sc.id}: ≤ 1.2 API requests per approved CSR beyond list + watch`, figure: num(perCsr, 2), met: perCsr <= 1.2 });
    const exit = a((r) => fig(r.readyToExitMs)).v;
    out.push({ goal: `${sc.id}: exit within 1 s of the last Node Ready`, figure: ms(exit), met: exit === undefined ? false : exit <= 1000 });
    const coldStart = a((r) => fig(r.coldStartMs)).v;
    out.push({ goal: `${sc.id}: cold start < 300 ms`, figure: ms(coldStart), met: coldStart === undefined ? undefined : coldStart < 300 });
    if (sc.machines >= 1000) {
      if (raw) {
        const f = (a((r) => fig(r.throughput)).v ?? NaN) / (raw((r) => fig(r.throughput)).v ?? NaN);
        out.push({ goal: `${sc.id}: throughput ≥ 80% of the raw loop`, figure: `${num(f * 100, 0)}%`, met: f >= 0.8 });
      }
      const rss = a((r) => fig(r.peakRss)).v;
      out.push({ goal: `${sc.id}: peak RSS < 150 MB`, figure: mb(rss), met: rss === undefined ? undefined : rss < 150 * 1024 * 1024 });
    }
  }
  if (input.baseline) {
    const compared = input.scenarios.filter((sc) => get(sc.id, 'action') && get(sc.id, 'baseline')).length;
    out.push({ goal: `no figure > ${REGRESSION_TOLERANCE * 100} % worse than the baseline`, figure: `${found.length} figures (${compared} scenario${compared === 1 ? '' : 's'} compared)`, met: compared ? found.length === 0 : undefined });
    const beyond = found.filter((f) => f.beyondSpread).length;
    out.push({ goal: `no figure > ${REGRESSION_TOLERANCE * 100} % worse than the baseline and beyond the baseline's own runs`, figure: `${beyond} figures`, met: compared ? beyond === 0 : undefined });
  }
  out.push({ goal: 'bundle < 3 MB', figure: `${input.action.bytes} bytes`, met: input.action.bytes < 3_000_000 });
  return out;
}
