// The faults a long-running service meets, applied to the test bed on a schedule. Each returns
// when the fault is over (the server is back, etcd answers again), with a line of what happened.
import { ACTION_USER, type ControlPlane } from '../../test/env/controlplane.ts';
import { createClient, destroyClient } from '../../test/env/client.ts';
import type { CuttableProxy } from '../../test/env/proxy.ts';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type FaultKind = 'apiserver-restart' | 'connections-cut' | 'etcd-stopped-20s' | 'etcd-restart' | '429-burst' | 'token-rotation' | 'approval-revoked-60s';

export const FAULT_ORDER: readonly FaultKind[] = ['apiserver-restart', 'connections-cut', 'etcd-stopped-20s', 'approval-revoked-60s', 'etcd-restart', '429-burst', 'token-rotation'];

/** What /healthz said around a fault that should turn it 503 (approval-revoked-60s). */
export interface HealthAroundFault {
  /** From the start of the fault to the first 503; undefined: none seen during the fault. */
  unhealthyAfterMs?: number;
  /** The first 503's text. */
  unhealthyText?: string;
  /** From the end of the fault to the first 200 after it; undefined: not within 3 minutes. */
  healthyAgainAfterMs?: number;
}

export interface FaultResult {
  kind: FaultKind;
  startedAt: number;
  endedAt: number;
  detail: string;
  /** set when the fault could not be applied */
  skipped?: string;
  health?: HealthAroundFault;
}

export interface FaultBed {
  cp: ControlPlane;
  proxy: CuttableProxy;
  /** The service's current token (it changes with a rotation). */
  actionToken: () => string;
  /** undefined: the service cannot rotate its token (the fault is skipped) */
  rotateToken?: () => Promise<string>;
  /** The service's /healthz; undefined: it has none (approval-revoked-60s is skipped). */
  healthUrl?: string;
  /** The --approval-failure-grace the service runs with, ms (undefined: the service has no such option). */
  approvalGraceMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function applyFault(kind: FaultKind, bed: FaultBed): Promise<FaultResult> {
  const startedAt = Date.now();
  const done = (detail: string, skipped?: string): FaultResult => ({ kind, startedAt, endedAt: Date.now(), detail, ...(skipped ? { skipped } : {}) });
  switch (kind) {
    case 'apiserver-restart':
      await bed.cp.restartApiServer();
      return done('kube-apiserver stopped (SIGTERM, watches cut after 2 s) and started again; ended when /readyz answered 200');
    case 'connections-cut':
      return done(`every connection through the proxy destroyed at once (${bed.proxy.cutAll()} sockets)`);
    case 'etcd-stopped-20s':
      bed.cp.pauseEtcd();
      try {
        await sleep(20_000);
      } finally {
        bed.cp.resumeEtcd();
      }
      return done('etcd SIGSTOP for 20 s, then SIGCONT');
    case 'etcd-restart':
      await bed.cp.restartEtcd();
      return done('etcd stopped (SIGTERM) and started again on the same data; ended when it reported healthy');
    case '429-burst':
      return done(await burst429(bed.cp, bed.actionToken()));
    case 'token-rotation':
      if (!bed.rotateToken) return done('', 'token-file rotation support had not landed (committed) when this soak started');
      return done(await bed.rotateToken());
    case 'approval-revoked-60s': {
      if (!bed.healthUrl || bed.approvalGraceMs === undefined) return done('', 'this build has no /healthz verdict on failing approvals (--approval-failure-grace)');
      const { health, detail } = await approvalRevoked(bed.cp, bed.healthUrl, bed.approvalGraceMs);
      return { ...done(detail), health };
    }
  }
}

const ROLE = '/apis/rbac.authorization.k8s.io/v1/clusterroles/openshift-finish-install';
const REVOKED_MS = 60_000;

/**
 * The service's role loses the approve verb on the kubelet signers for a minute (a GitOps sync of
 * an older role, a hand edit), then gets it back. /healthz is read every 500 ms throughout and
 * until it answers 200 again after the restore.
 */
async function approvalRevoked(cp: ControlPlane, healthUrl: string, graceMs: number): Promise<{ health: HealthAroundFault; detail: string }> {
  const role = await cp.admin.request('GET', ROLE);
  const { resourceVersion: _rv, ...metadata } = role.metadata;
  const restored = { ...role, metadata };
  const revoked = { ...restored, rules: role.rules.filter((r: { resources: string[] }) => !r.resources.includes('signers')) };
  const health: HealthAroundFault = {};
  const startedAt = Date.now();
  const read = () => fetch(healthUrl, { signal: AbortSignal.timeout(2000) }).then(async (r) => ({ status: r.status, text: (await r.text()).trim() }), () => ({ status: 0, text: 'no answer' }));
  await cp.admin.request('PUT', ROLE, { body: revoked });
  try {
    while (Date.now() - startedAt < REVOKED_MS) {
      const h = await read();
      if (h.status === 503 && health.unhealthyAfterMs === undefined) {
        health.unhealthyAfterMs = Date.now() - startedAt;
        health.unhealthyText = h.text;
      }
      await sleep(500);
    }
  } finally {
    await cp.admin.request('PUT', ROLE, { body: restored });
  }
  const restoredAt = Date.now();
  while (Date.now() - restoredAt < 180_000) {
    if ((await read()).status === 200) {
      health.healthyAgainAfterMs = Date.now() - restoredAt;
      break;
    }
    await sleep(500);
  }
  const s = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
  return {
    health,
    detail: `the approve verb on the kubelet signers removed from the service's ClusterRole for ${REVOKED_MS / 1000} s, then restored (--approval-failure-grace ${graceMs / 1000} s); /healthz 503 after ${s(health.unhealthyAfterMs)}${health.unhealthyText ? ` ("${health.unhealthyText.slice(0, 120)}")` : ''}, 200 again ${s(health.healthyAgainAfterMs)} after the restore`,
  };
}

const PLC = '/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations';
const FLOW_SCHEMAS = '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas';
const BURST_NAME = 'soak-429-burst';
const BURST_MS = 10_000;
const FLOOD_CONCURRENCY = 48;

/**
 * A 429 burst without restarting the API server: API Priority and Fairness (on by default) gets a
 * priority level of one nominal share that rejects instead of queueing, and a FlowSchema that puts
 * the service's own identity in it; then 48 callers with that identity keep its few seats full for
 * 10 s, so the service's own calls in that window are answered 429 too (APF sends Retry-After).
 */
async function burst429(cp: ControlPlane, token: string): Promise<string> {
  const spec = { type: 'Limited', limited: { nominalConcurrencyShares: 1, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } };
  await cp.admin.apply({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: BURST_NAME }, spec });
  await cp.admin.apply({
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name: BURST_NAME },
    spec: {
      priorityLevelConfiguration: { name: BURST_NAME },
      matchingPrecedence: 100,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{
        subjects: [{ kind: 'User', user: { name: ACTION_USER } }],
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      }],
    },
  });
  await sleep(1500); // the APF configuration controller picks the objects up from its informer
  const flood = createClient(cp.url, cp.caPem, token);
  const codes = new Map<number, number>();
  const until = Date.now() + BURST_MS;
  try {
    await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const status = await flood.requestRaw('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests').then((r) => r.status, () => 0);
        codes.set(status, (codes.get(status) ?? 0) + 1);
      }
    }));
  } finally {
    destroyClient(flood);
    await cp.admin.requestRaw('DELETE', `${FLOW_SCHEMAS}/${BURST_NAME}`);
    await cp.admin.requestRaw('DELETE', `${PLC}/${BURST_NAME}`);
  }
  const rejected = (await cp.metrics()).split('\n')
    .filter((l) => l.startsWith('apiserver_flowcontrol_rejected_requests_total{') && l.includes(`priority_level="${BURST_NAME}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  const answers = [...codes].sort((a, b) => a[0] - b[0]).map(([code, n]) => `${n}× ${code || 'no answer'}`).join(', ');
  return `APF priority level of 1 share with Reject for the service's identity, flooded for ${BURST_MS / 1000} s by ${FLOOD_CONCURRENCY} callers (${answers}); the server counted ${rejected} rejections at that level`;
}

/**
 * A token rotation as a cluster does it: the new token is accepted beside the old one (the token
 * file of the API server is read at start, so it restarts), the service's kubeconfig tokenFile gets
 * the new one, and after the service has had a minute to read it the old one stops working (a
 * second restart). The fault ends when the server is back with only the new token.
 */
export function tokenRotation(cp: ControlPlane, tokenFile: string, current: { token: string }): () => Promise<string> {
  return async () => {
    const table = join(cp.dir, 'tokens.csv');
    const lines = (await readFile(table, 'utf8')).split('\n').filter(Boolean);
    const old = lines.find((l) => l.startsWith(`${current.token},`))!;
    const next = randomBytes(24).toString('hex');
    await writeFile(table, [...lines, `${next}${old.slice(current.token.length)}`].join('\n') + '\n');
    await cp.restartApiServer();
    await writeFile(tokenFile, `${next}\n`);
    current.token = next;
    await sleep(TOKEN_REREAD_MS);
    await writeFile(table, [...lines.filter((l) => l !== old), `${next}${old.slice(old.indexOf(','))}`].join('\n') + '\n');
    await cp.restartApiServer();
    return `new token accepted beside the old one (API server restarted), written to the kubeconfig's tokenFile, old one revoked ${TOKEN_REREAD_MS / 1000} s later (API server restarted again); the fault ends at the second restart`;
  };
}

/** The service reads its tokenFile again every minute. */
const TOKEN_REREAD_MS = 70_000;
