// The renewal service's HTTP endpoint (--metrics-address): /metrics for Prometheus, /healthz for
// systemd, a load balancer or an alert. Figures come from the approver at scrape time.
import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ApproverEvents, FailingApproval } from '../approver/approver.ts';
import type { InformerStats } from '../cluster/informer.ts';
import { DEFAULT_APPROVAL_FAILURE_GRACE_MS, healthOf } from './health.ts';
import { renderMetrics, ServiceCounters } from './metrics.ts';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** HOST:PORT, [IPv6]:PORT, or :PORT for every interface; undefined when it is none of them. */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) return undefined;
  return { host, port };
}

export interface WatchedApprover {
  informerStats(): InformerStats[];
  pendingListedCsrs(): number;
  failingApprovals(): FailingApproval[];
}

export interface MonitorOptions {
  /** How long an allowed approval may keep failing before /healthz answers 503. */
  readonly approvalFailureGraceMs?: number;
}

export interface ServiceMonitor {
  /** Give these to the approver. */
  readonly events: ApproverEvents;
  /** Starts reporting on the approver (until then /healthz says "starting"). */
  attach(approver: WatchedApprover, pollIntervalMs: number): void;
  /** The address it listens on, as host:port. */
  readonly address: string;
  close(): Promise<void>;
}

/** The event loop delay is reported over the last full minute (the current one until there is one). */
const DELAY_WINDOW_MS = 60_000;

export async function startMonitor(listen: ListenAddress, options: MonitorOptions = {}): Promise<ServiceMonitor> {
  const graceMs = options.approvalFailureGraceMs ?? DEFAULT_APPROVAL_FAILURE_GRACE_MS;
  const counters = new ServiceCounters();
  const startedAt = Date.now();
  let approver: WatchedApprover | undefined;
  let pollIntervalMs = 10_000;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let lastWindow: { p99: number; max: number } | undefined;
  const rotate = setInterval(() => {
    lastWindow = { p99: delay.percentile(99), max: delay.max };
    delay.reset();
  }, DELAY_WINDOW_MS);
  rotate.unref();

  const health = () => healthOf(approver?.informerStats() ?? [], Date.now(), pollIntervalMs, approver?.failingApprovals() ?? [], graceMs);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const verdict = health();
      res.writeHead(verdict.ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${verdict.text}\n`);
      return;
    }
    if (path === '/metrics') {
      const window = lastWindow ?? { p99: delay.percentile(99), max: delay.max };
      const body = renderMetrics({
        counters,
        pendingListedCsrs: approver?.pendingListedCsrs(),
        failingApprovals: approver?.failingApprovals().length,
        informers: approver?.informerStats() ?? [],
        rssBytes: process.memoryUsage.rss(),
        // The histogram is in nanoseconds; an empty one reports 0.
        eventLoopDelayP99Seconds: (Number.isFinite(window.p99) ? window.p99 : 0) / 1e9,
        eventLoopDelayMaxSeconds: (Number.isFinite(window.max) ? window.max : 0) / 1e9,
        startedAt,
        healthy: health().ok,
      });
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    events: { approved: (phase) => counters.approved(phase), refused: (reason) => counters.refused(reason), approvalFailed: (code) => counters.approvalFailed(code) },
    attach(next, poll) {
      approver = next;
      pollIntervalMs = poll;
    },
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    async close() {
      clearInterval(rotate);
      delay.disable();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
