// RELIABILITY.md from one soak's figures.
import type { FaultResult } from './faults.ts';
import type { Sample, ServiceLine } from './process.ts';
import type { Renewal } from './renewals.ts';

export interface Recovery {
  probe: string;
  /** from the end of the fault to the probe's creation (the cluster taking writes again), ms */
  filedMs: number;
  /** from the end of the fault to the probe's approval, ms; undefined: not approved in 120 s */
  approvedMs: number | undefined;
}

export interface SoakFigures {
  date: string;
  minutes: number;
  versions: Record<'node' | 'kubernetes' | 'etcd' | 'cli' | 'commit', string>;
  machine: string;
  fleet: number;
  pollS: number;
  renewals: Renewal[];
  renewalErrors: string[];
  /** by uid: the API server gives a generated name again once its CSR is deleted */
  forged: Array<{ name: string; uid: string; kind: string; at: number }>;
  forgedApproved: Array<{ name: string; uid: string; kind: string; at: number }>;
  faults: Array<FaultResult & { recovery?: Recovery }>;
  samples: Sample[];
  startedAt: number;
  lines: ServiceLine[];
  exitCode: number | null;
  churn: string[];
  soakErrors: string[];
  /** the service's /metrics page at the end ('' without --metrics-address) */
  metrics: string;
  /** CSRs filed with hostile names (workflow commands, controls, bidi) */
  hostileFiled: number;
  /** lines of the service's log that a CI log reader would take a command from (forgedCommandLines) */
  forgedCommands: string[];
  faultOrder: readonly string[];
  /** the Environment= settings of the shipped systemd unit, given to the service */
  environment: Record<string, string>;
  /** where the service's whole log was written (not kept in the repository) */
  serviceLog: string;
}

/**
 * The lines of the service's log from which a CI log reader would take a workflow command: a line
 * (also one a CR, NEL, LS or PS starts) whose trimmed text starts with `::` (the CLI writes no
 * command of its own), or one holding `##[` or `##vso[` (any case) anywhere.
 */
export function forgedCommandLines(lines: readonly ServiceLine[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const part of line.text.split(/\r\n|[\r\n\u0085\u2028\u2029]/)) {
      if (/^\s*::/.test(part) || part.includes('##[') || /##vso\[/i.test(part)) found.push(part);
    }
  }
  return found;
}

/** A log line shown in the report without forming a command itself (in this Markdown, or in the soak's own log). */
const inert = (text: string) => JSON.stringify(text.slice(0, 200)).replace(/[^\x20-\x7e]|[#:`|]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Five minutes, or half of a shorter run. */
const warmUpMs = (f: SoakFigures) => Math.min(5 * 60_000, (f.minutes * 60_000) / 2);
const s = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`;

/** Least-squares slope of y over x (per x unit). */
function slope(points: Array<[number, number]>): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Samples at each end of a stretch whose median stands for it: one sample swings with the young generation and a GC. */
const WINDOW = 5;
const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

/**
 * Growth from the median of the first WINDOW samples after warm-up (or `fromMs`) to the median of
 * the last WINDOW, and the least-squares slope per minute over every sample after warm-up.
 */
function afterWarmUp(f: SoakFigures, pick: (x: Sample) => number, fromMs = warmUpMs(f)): { all: Array<[number, number]>; first: number; last: number; growth: number; perMin: number } {
  const all = f.samples.map((x) => [(x.at - f.startedAt) / 60_000, pick(x)] as [number, number]);
  const warm = all.filter(([m]) => m * 60_000 >= fromMs - 30_000);
  const window = Math.max(1, Math.min(WINDOW, Math.floor(warm.length / 2)));
  const first = median(warm.slice(0, window).map(([, v]) => v));
  const last = median(warm.slice(-window).map(([, v]) => v));
  return { all, first, last, growth: (last - first) / first, perMin: slope(warm) };
}

function series(f: SoakFigures, pick: (x: Sample) => number, unit: (v: number) => string, fromMs?: number): string[] {
  const { all, first, last: lastValue, perMin } = afterWarmUp(f, pick, fromMs);
  return [
    unit(all[0]?.[1] ?? NaN),
    unit(lastValue),
    unit(Math.max(...all.map(([, v]) => v))),
    pct((lastValue - first) / first),
    `${perMin >= 0 ? '+' : ''}${unit(perMin)}/min (${pct((perMin * 60) / first)} per hour)`,
  ];
}

export function renderReport(f: SoakFigures): string {
  const at = (t: number) => `${new Date(t).toISOString().slice(11, 19)} (minute ${((t - f.startedAt) / 60_000).toFixed(1)})`;
  const approved = f.renewals.filter((r) => r.approvedAt !== undefined);
  const missed = f.renewals.filter((r) => r.approvedAt === undefined);
  const latencies = approved.map((r) => ({ r, ms: r.approvedAt! - r.filedAt })).sort((a, b) => a.ms - b.ms);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.ms;
  const worst = latencies.at(-1);
  const faultAt = (t: number) => f.faults.find((x) => t >= x.startedAt - 1000 && t <= x.endedAt + 15_000)?.kind;
  // By the log's own prefix: a refusal line names the CSR, and a hostile name may say "error".
  const errorLines = f.lines.filter((l) => /^(warning|error)\b/i.test(l.text));
  const shown = (text: string) => (forgedCommandLines([{ at: 0, stream: 'stderr', text }]).length > 0 ? inert(text) : text);
  const loop = f.samples.map((x) => x.loopP99Ms).filter((v): v is number => v !== undefined);
  const recovered = f.faults.filter((x) => !x.skipped);
  const withinPoll = recovered.filter((x) => x.recovery?.approvedMs !== undefined && x.recovery.approvedMs <= f.pollS * 1000);
  const byKind = new Map<string, number>();
  for (const x of f.forged) byKind.set(x.kind, (byKind.get(x.kind) ?? 0) + 1);
  const rss = series(f, (x) => x.rssKb, mb);
  const anon = series(f, (x) => x.anonKb, mb);
  const file = series(f, (x) => x.fileKb, mb);
  // The second half alone: a leak keeps its slope there; a level the allocator settles into does not.
  const halfMs = (f.minutes * 60_000) / 2;
  const rssLate = series(f, (x) => x.rssKb, mb, halfMs);
  const probed = f.samples.filter((x) => x.jsUsedKb !== undefined);
  const jsUsed = probed.length ? series({ ...f, samples: probed }, (x) => x.jsUsedKb!, mb) : undefined;
  const jsHeld = probed.length ? series({ ...f, samples: probed }, (x) => x.jsCommittedKb!, mb) : undefined;
  const fds = series(f, (x) => x.fds, (v) => (Number.isFinite(v) ? v.toFixed(Math.abs(v) < 10 && v % 1 !== 0 ? 2 : 0) : '–'));

  const rssGrowth = afterWarmUp(f, (x) => x.rssKb).growth;
  const anonGrowth = afterWarmUp(f, (x) => x.anonKb).growth;
  const fdTrend = afterWarmUp(f, (x) => x.fds);
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const revoked = f.faults.filter((x) => x.kind === 'approval-revoked-60s' && !x.skipped);
  const healthTold = revoked.filter((x) => x.health?.unhealthyAfterMs !== undefined && x.health.healthyAgainAfterMs !== undefined);
  const warmUpMin = (warmUpMs(f) / 60_000).toFixed(1).replace(/\.0$/, '');
  const goals = [
    `- 0 renewals missed: ${met(missed.length === 0)} (${missed.length})`,
    `- 0 forged requests approved: ${met(f.forgedApproved.length === 0)} (${f.forgedApproved.length})`,
    `- RSS growth after the first ${warmUpMin} minutes under 5 %: ${met(rssGrowth < 0.05)} (${pct(rssGrowth)}, slope ${rss[4]}; private memory alone, RssAnon: ${pct(anonGrowth)})`,
    `- no handle growth: ${met(fdTrend.last <= fdTrend.first && fdTrend.perMin <= 0.05)} (${fdTrend.first} → ${fdTrend.last} open fds, medians of ${WINDOW} samples)`,
    `- every fault recovered within one poll interval: ${met(withinPoll.length === recovered.length)} (${withinPoll.length} of ${recovered.length})`,
    `- /healthz 503 during each revoked minute and 200 after: ${revoked.length === 0 ? 'not measured (no approval-revoked-60s fault ran)' : `${met(healthTold.length === revoked.length)} (${healthTold.length} of ${revoked.length})`}`,
    `- 0 workflow commands formed from hostile names in the service's log: ${met(f.forgedCommands.length === 0)} (${f.forgedCommands.length} lines, ${f.hostileFiled} hostile names filed)`,
  ];
  return [
    '# Reliability: a soak of the renewal service',
    '',
    `Generated by \`npm run soak -- --minutes ${f.minutes}\` (scripts/soak.ts) on ${f.date}. Node ${f.versions.node}, Kubernetes ${f.versions.kubernetes}, ${f.versions.etcd}, CLI ${f.versions.cli}, commit ${f.versions.commit}. Machine: ${f.machine}.`,
    '',
    '## Method',
    '',
    `- The CLI bundle (\`dist/cli.js --watch --nodes-file … --poll-interval ${f.pollS}s\`) runs as its own process${Object.keys(f.environment).length ? ` with the environment of the systemd unit we ship (examples/openshift-finish-install.service: ${Object.entries(f.environment).map(([k, v]) => `\`${k}=${v}\``).join(' ')})` : ''} under the least-privilege identity of deploy/rbac.yaml, against the test control plane (etcd, kube-apiserver, the controller manager's signer), **through a loopback TCP proxy** that can cut every connection.`,
    `- A fleet of ${f.fleet} listed machines (simulated kubelets: client CSR, Node, serving CSR, Ready) then keeps renewing: each files a new ECDSA serving CSR for its own name and declared address about once a minute (jittered 0.8–1.2 min). Every 3 minutes a new machine is added to the nodes file, boots, renews for 2 minutes, stops renewing, and is removed from the file (its Node deleted).`,
    '- An adversary files a forged request every 10 s, in turn: a client request for an unlisted machine, a serving request with another node\'s address, one outside the declared addresses, a client request for an existing Node, a serving request with two CNs.',
    '- Garbage collection, scaled down as the lifetimes are: approved CSRs are deleted 3 minutes after approval, pending ones after 10 minutes, so what the service keeps per CSR must go with them.',
    `- Hostile CSR names, one every 5 s throughout: bootstrap client requests for unlisted machines (refused, so their names reach the service's log) named after text that forms workflow commands (\`::error::\`, \`##[error]\`, \`##vso[…]\`, \`::stop-commands::\`), CR/LF/NEL/LS, terminal escapes and bidi controls (U+202E), as the API server takes them (it refuses only '/', '%', '.' and '..'). Every line of the service's log is scanned as a CI log reader would: a line (CR, NEL, LS and PS start one too) whose text starts with \`::\`, or holding \`##[\` or \`##vso[\`.`,
    `- Faults in this order: ${f.faultOrder.join(', ')} (API server restart, every connection cut, etcd stopped 20 s with SIGSTOP/SIGCONT, the approve verb on the kubelet signers removed from the service's ClusterRole for 60 s and restored with /healthz read every 500 ms, etcd restarted on the same data, a 429 burst, a token rotation). Right after each fault ends a probe renewal is filed; its **recovery** is the time from the end of the fault to the probe's approval (read back every 250 ms). Goal: within one poll interval (${f.pollS} s).`,
    '- 429 burst without restarting the API server: API Priority and Fairness (on by default) gets a priority level of one nominal share that rejects instead of queueing, and a FlowSchema that puts the service\'s identity in it; 48 callers with that identity keep its seats full for 10 s, so the service\'s own calls in that window are answered 429 with Retry-After.',
    `- Resident memory (VmRSS from /proc/<pid>/status, and its two parts: RssAnon, the process's private memory, and RssFile, the pages of the node binary mapped in) and open handles (entries of /proc/<pid>/fd) of the service process, once a minute. "After warm-up" means from minute ${warmUpMin}; growth after warm-up is from the median of the ${WINDOW} samples from then to the median of the last ${WINDOW} (one sample swings by several MiB with the JS heap's young generation), the slope a least-squares fit over every sample from then.`,
    `- Every request is told apart by its uid, not its name: the API server hands a generated name (\`csr-xxxxx\`) out again once its CSR is deleted, so a forgery garbage-collected unapproved and a later renewal can share a name. The service's whole log was written to ${f.serviceLog} (not in the repository).`,
    '- A renewal is **missed** when it is not approved by the end of the soak plus a 90 s grace. Latency is from the create answer to the first Approved condition the soak\'s own watch (straight to the API server) sees.',
    '',
    '## Against the goals',
    '',
    ...goals,
    '',
    '## Figures',
    '',
    '| figure | value |',
    '|---|---|',
    `| renewals filed / approved / missed | ${f.renewals.length} / ${approved.length} / **${missed.length}** |`,
    `| forged requests filed / approved | ${f.forged.length} / **${f.forgedApproved.length}** |`,
    `| approval latency p50 / p99 / max | ${s(q(0.5))} / ${s(q(0.99))} / ${s(worst?.ms)} |`,
    `| longest approval | ${worst ? `${s(worst.ms)}: ${worst.r.name} for ${worst.r.node}, filed at ${at(worst.r.filedAt)}${faultAt(worst.r.filedAt) ? `, during or right after: ${faultAt(worst.r.filedAt)}` : ''}` : '–'} |`,
    `| RSS start / end / max | ${rss[0]} / ${rss[1]} / ${rss[2]} |`,
    `| RSS growth after warm-up (minute ${warmUpMin} → end) / slope | ${rss[3]} / ${rss[4]} |`,
    `| of which private (RssAnon) start / end / max; growth after warm-up / slope | ${anon[0]} / ${anon[1]} / ${anon[2]}; ${anon[3]} / ${anon[4]} |`,
    `| RSS in the second half (minute ${(halfMs / 60_000).toFixed(0)} → end): growth / slope | ${rssLate[3]} / ${rssLate[4]} |`,
    `| JS heap used (live objects) / held by V8, growth after warm-up | ${jsUsed && jsHeld ? `${jsUsed[3]} / ${jsHeld[3]} (${jsUsed[1]} / ${jsHeld[1]} at the end)` : 'not measured'} |`,
    `| of which the node binary's pages (RssFile) start / end / max; growth after warm-up | ${file[0]} / ${file[1]} / ${file[2]}; ${file[3]} |`,
    `| open handles start / end / max | ${fds[0]} / ${fds[1]} / ${fds[2]} |`,
    `| open handles after warm-up (minute ${warmUpMin} → end) / slope | ${fds[3]} / ${fds[4]} |`,
    `| /healthz in the revoked minute | ${revoked.length === 0 ? '–' : revoked.map((x) => `503 after ${s(x.health?.unhealthyAfterMs)}, 200 ${s(x.health?.healthyAgainAfterMs)} after the restore`).join('; ')} |`,
    `| hostile names filed / workflow commands formed in the service's log | ${f.hostileFiled} / **${f.forgedCommands.length}** |`,
    `| event-loop delay p99 | ${loop.length ? `max ${Math.max(...loop).toFixed(1)} ms over ${loop.length} samples (median ${loop.sort((a, b) => a - b)[Math.floor(loop.length / 2)]!.toFixed(1)} ms)` : 'not measured: this build of the CLI has no --metrics-address'} |`,
    `| faults recovered within one poll interval (${f.pollS} s) | ${withinPoll.length} of ${recovered.length}${f.faults.length > recovered.length ? ` (${f.faults.length - recovered.length} skipped)` : ''} |`,
    `| service error and warning lines | ${errorLines.length} |`,
    `| service exit after SIGTERM | ${f.exitCode} |`,
    '',
    '## Faults',
    '',
    '| # | fault | at | lasted | recovery (probe approved after the end) | probe created after the end | what |',
    '|---|---|---|---|---|---|---|',
    ...f.faults.map((x, i) => `| ${i + 1} | ${x.kind} | ${at(x.startedAt)} | ${s(x.endedAt - x.startedAt)} | ${x.skipped ? `skipped: ${x.skipped}` : x.recovery?.approvedMs === undefined ? '**not approved in 120 s**' : `${s(x.recovery.approvedMs)}${x.recovery.approvedMs > f.pollS * 1000 ? ' (over the poll interval)' : ''}`} | ${x.recovery ? s(x.recovery.filedMs) : '–'} | ${x.detail.replace(/\|/g, '\\|')} |`),
    '',
    '## Memory and handles, once a minute',
    '',
    '| minute | VmRSS | RssAnon | of which glibc\'s main arena ([heap]) | JS heap used / held by V8 | RssFile | open fds | event-loop p99 | load average (1 min) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...f.samples.map((x) => `| ${((x.at - f.startedAt) / 60_000).toFixed(1)} | ${mb(x.rssKb)} | ${mb(x.anonKb)} | ${x.arenaKb === undefined ? '–' : mb(x.arenaKb)} | ${x.jsUsedKb === undefined ? '–' : `${mb(x.jsUsedKb)} / ${mb(x.jsCommittedKb!)}`} | ${mb(x.fileKb)} | ${x.fds} | ${x.loopP99Ms === undefined ? '–' : `${x.loopP99Ms.toFixed(1)} ms`} | ${x.load1.toFixed(2)} |`),
    '',
    '## Forged requests by kind (none may be approved)',
    '',
    ...[...byKind].map(([kind, n]) => `- ${kind}: ${n} filed, ${f.forgedApproved.filter((x) => x.kind === kind).length} approved`),
    '',
    '## Every error and warning line the service printed',
    '',
    errorLines.length === 0 ? 'None.' : ['```', ...errorLines.map((l) => `${at(l.at)} ${shown(l.text)}`), '```'].join('\n'),
    '',
    ...(f.forgedCommands.length ? ['## Log lines a CI log reader would take a command from (shown escaped)', '', ...f.forgedCommands.slice(0, 50).map((l) => `- ${inert(l)}`), ''] : []),
    ...(f.forgedApproved.length ? ['## Forged requests approved', '', ...f.forgedApproved.map((x) => `- ${inert(x.name)} (uid ${x.uid}): ${x.kind}, filed at ${at(x.at)}`), ''] : []),
    ...(missed.length ? ['## Missed renewals', '', ...missed.map((r) => `- ${r.name} for ${r.node}, filed at ${at(r.filedAt)}`), ''] : []),
    '## Machines added and removed',
    '',
    ...f.churn.map((c) => `- ${c}`),
    '',
    ...(f.metrics ? ['## The service\'s /metrics at the end', '', '```', ...f.metrics.split('\n').filter((l) => l && !l.startsWith('#')), '```', ''] : []),
    ...(f.soakErrors.length || f.renewalErrors.length ? ['## Errors on the soak\'s own side (simulator, adversary)', '', ...[...f.renewalErrors, ...f.soakErrors].map((e) => `- ${e}`), ''] : []),
  ].join('\n');
}
