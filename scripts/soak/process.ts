// The service under soak: dist/cli.js --watch as its own process, its output kept with the time
// each line arrived, and its resident memory (all, private, file-backed) and open handles read
// from /proc once a minute.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

export interface Sample {
  at: number;
  rssKb: number;
  /** private memory (RssAnon): what a leak grows; VmRSS adds the pages of the node binary mapped in (RssFile) */
  anonKb: number;
  fileKb: number;
  /** of RssAnon, the glibc main arena (the [heap] mapping): the allocator's share, apart from the JS heap's and the threads' mappings */
  arenaKb?: number;
  /** the JS heap as the service's V8 reports it (scripts/soak/heap-probe.mjs, with --js-heap): live objects, and pages V8 holds */
  jsUsedKb?: number;
  jsCommittedKb?: number;
  fds: number;
  /** the service's own event-loop delay p99 (ms), when it serves /metrics */
  loopP99Ms?: number;
  load1: number;
}

export interface ServiceLine { at: number; stream: 'stdout' | 'stderr'; text: string }

export interface Service {
  child: ChildProcess;
  lines: ServiceLine[];
  exited: Promise<number | null>;
  sample(): Promise<Sample | undefined>;
  /** The service's whole /metrics page ('' without one). */
  metricsText(): Promise<string>;
  stop(): Promise<number | null>;
}

/** The probe the service loads, and where it writes. */
const HEAP_PROBE = new URL('./heap-probe.mjs', import.meta.url).pathname;

/**
 * logPath: every line is also appended there as it arrives, with its time and stream. jsHeap:
 * load the JS heap probe into the service (it writes beside the log, `.heap.jsonl`).
 */
export function startService(cli: string, args: string[], env: Record<string, string>, metricsUrl: string | undefined, load: () => number, logPath: string, jsHeap = false): Service {
  const heapLog = logPath.replace(/(\.service)?\.log$/, '') + '.heap.jsonl';
  const probe = jsHeap ? { NODE_OPTIONS: [`--import=${HEAP_PROBE}`, env.NODE_OPTIONS ?? ''].join(' ').trim(), OFI_SOAK_HEAP_PROBE: heapLog } : {};
  const child = spawn(process.execPath, [cli, ...args], { env: { ...env, ...probe }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: ServiceLine[] = [];
  const logFile = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) {
        const at = Date.now();
        lines.push({ at, stream, text });
        logFile.write(`${new Date(at).toISOString()} ${stream} ${text}\n`);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('close', () => logFile.end());
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    lines,
    exited,
    async sample() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
        const [rssKb, anonKb, fileKb] = [kb('VmRSS'), kb('RssAnon'), kb('RssFile')];
        const fds = readdirSync(`/proc/${child.pid}/fd`).length;
        const arenaKb = mappingRssKb(readFileSync(`/proc/${child.pid}/smaps`, 'utf8'), '[heap]');
        const js = lastHeapLine(heapLog);
        const loopP99Ms = metricsUrl ? await loopDelayP99(metricsUrl) : undefined;
        return { at: Date.now(), rssKb, anonKb, fileKb, fds, load1: load(), ...(arenaKb !== undefined ? { arenaKb } : {}), ...(js ? { jsUsedKb: js.usedKb, jsCommittedKb: js.committedKb } : {}), ...(loopP99Ms !== undefined ? { loopP99Ms } : {}) };
      } catch {
        return undefined; // exited
      }
    },
    metricsText: () => (metricsUrl ? fetch(metricsUrl, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => '') : Promise.resolve('')),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The probe's newest line (undefined: none yet, or no probe). */
function lastHeapLine(path: string): { usedKb: number; committedKb: number } | undefined {
  try {
    const last = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1);
    return last ? (JSON.parse(last) as { usedKb: number; committedKb: number }) : undefined;
  } catch {
    return undefined;
  }
}

/** The Rss of one named mapping of /proc/<pid>/smaps, kB (undefined: no such mapping). */
function mappingRssKb(smaps: string, name: string): number | undefined {
  const lines = smaps.split('\n');
  const at = lines.findIndex((line) => line.trim().endsWith(` ${name}`));
  if (at < 0) return undefined;
  const rss = lines.slice(at + 1).find((line) => line.startsWith('Rss:'));
  return rss ? Number(/(\d+) kB/.exec(rss)?.[1]) : undefined;
}

/** Reads an event-loop delay p99 from a Prometheus text page, in ms (seconds or ms by the metric's unit). */
async function loopDelayP99(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
    const line = text.split('\n').find((l) => !l.startsWith('#') && /event_?loop.*(p99|quantile="0\.99")/i.test(l));
    if (!line) return undefined;
    const value = Number(line.trim().split(/\s+/).pop());
    return /seconds/.test(line) ? value * 1000 : value;
  } catch {
    return undefined;
  }
}
