// Issue 16 on the real API server: a gate that fails ends on time and tells the whole story. The
// user's scenario: nodes-timeout 25s, one listed machine that never boots, an operator degraded
// from the start, and a hand-written role that lacks `list events` (diagnostics only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PATHS } from '../../src/cluster/paths.ts';
import { until, untilObserved } from '../env/until.ts';
import { runAction, sharedControlPlane, startAction } from './harness.ts';

const bed = sharedControlPlane();
const STABLE = { available: 'True', progressing: 'False', degraded: 'False' } as const;
const EVENTS_ROLE = '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/openshift-finish-install';
const NODES_TIMEOUT_MS = 25_000;
/** What issue 16 allows between the deadline that failed a run and its end. */
const AFTER_DEADLINE_MS = 8_000;

interface Rule { resources?: string[]; verbs?: string[] }

/** deploy/rbac.yaml as a custom role often is: without the diagnostics-only `list events` rule. */
async function withoutListEvents(): Promise<() => Promise<void>> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const role: any = await bed.cp.admin.request('GET', EVENTS_ROLE);
  const rules = (role.rules as Rule[]).filter((r) => !((r.resources ?? []).includes('events') && (r.verbs ?? []).includes('list')));
  assert.ok(rules.length < role.rules.length, 'deploy/rbac.yaml grants list events in default');
  await bed.cp.admin.request('PUT', EVENTS_ROLE, { body: { ...role, rules } });
  // RBAC changes reach the authorizer through its informer: wait until the action is refused.
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'events', namespace: 'default' } } };
  await untilObserved(
    () => bed.cp.action.request<{ status?: { allowed?: boolean } }>('POST', PATHS.selfSubjectAccessReviews, { body: review }),
    (answer) => !answer.status?.allowed,
    { message: 'the action identity refused list events after the Role changed', timeoutMs: 15_000 },
  );
  return async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const current: any = await bed.cp.admin.request('GET', EVENTS_ROLE);
    await bed.cp.admin.request('PUT', EVENTS_ROLE, { body: { ...current, rules: role.rules } });
  };
}

test('nodes-timeout with a machine that never boots, a degraded operator and no list events: ends on time, names both', { timeout: 120_000 }, async (t) => {
  const restore = await withoutListEvents();
  try {
    await bed.install({
      workers: [{ name: 'd-worker-0', addresses: ['10.3.1.10'] }, { name: 'd-worker-1', addresses: ['10.3.1.11'], neverBoots: true }],
      operators: {
        scripted: {
          'd-steady': [{ atMs: 0, ...STABLE }],
          monitoring: [{ atMs: 0, available: 'True', progressing: 'False', degraded: 'True', reason: 'UpdatingPrometheusFailed', message: 'prometheus-k8s rollout stuck' }],
        },
      },
      registry: { rolloutMs: 500 },
    });
    const action = startAction(bed.cp, {
      nodes: 'd-worker-0 10.3.1.10\nd-worker-1 10.3.1.11',
      'nodes-timeout': '25s',
      'registry-storage': 'emptyDir',
      'stable-period': '0s',
    });
    // The nodes deadline counts from the start of the nodes phase (after the preflight).
    const nodesStarted = await until(() => {
      if (/\[nodes\] approving/.test(action.stdoutSoFar())) return Date.now();
      if (action.child.exitCode !== null) throw new Error(`the action exited before its nodes phase:\n${action.stdoutSoFar()}`);
      return undefined;
    }, { message: 'the nodes phase started', timeoutMs: 30_000, intervalMs: 20 });
    const run = await action.done;
    const afterDeadline = Date.now() - (nodesStarted + NODES_TIMEOUT_MS);
    t.diagnostic(`ended ${(afterDeadline / 1000).toFixed(1)} s after nodes-timeout`);
    if (process.env.OFI_SHOW_RUN) t.diagnostic(`${run.stdout}\n${run.summary}\n${JSON.stringify(run.diagnostics, null, 1)}`);
    assert.ok(afterDeadline >= 0, `ended ${afterDeadline} ms before the deadline:\n${run.stdout}`);
    assert.ok(afterDeadline < AFTER_DEADLINE_MS, `ended ${afterDeadline} ms after nodes-timeout (allowed ${AFTER_DEADLINE_MS}):\n${run.stdout}`);

    assert.equal(run.exitCode, 1);
    assert.equal(run.outputs.result, 'timeout');
    // The failure line: what failed first, then what else was not done.
    assert.match(run.stdout, /::error::Nodes not Ready with serving certificates after 25s: d-worker-1 \(no client CSR seen[^\n]*; also: ClusterOperators not stable: monitoring \(Degraded=True \(UpdatingPrometheusFailed\): prometheus-k8s rollout stuck\)/);
    // Outputs: everything known when the nodes gate failed, the operators and registry included.
    const nodes = run.json('nodes');
    assert.deepEqual(nodes.map((n) => [n.name, n.ready]), [['d-worker-0', true], ['d-worker-1', false]]);
    assert.equal(run.outputs['nodes-ready'], 'false');
    assert.equal(run.outputs['operators-stable'], 'false');
    const unstable = run.json('unstable-operators');
    assert.deepEqual(unstable.map((o) => o.name), ['monitoring']);
    assert.equal(unstable[0]!.degraded, 'True');
    assert.match(unstable[0]!.message, /prometheus-k8s rollout stuck/);
    assert.deepEqual(run.json('registry'), { managementState: 'Managed', storage: 'emptyDir', claim: '', rolloutStrategy: 'RollingUpdate', replicas: 1, ready: true, changed: true });
    // The summary tells the same story.
    assert.match(run.summaryText, /d-worker-1/);
    assert.match(run.summaryText, /\| monitoring \| True \| False \| True \| .*prometheus-k8s rollout stuck/);
    assert.match(run.summaryText, /also: ClusterOperators not stable: monitoring/);
    assert.match(run.summaryText, /### Timeline[\s\S]*\| \+\d+\.\ds \| d-worker-0: client approved \|/, 'offsets in tenths of a second');

    // The forbidden diagnostics read: listed as not readable with the rule, never retried.
    const notReadable = JSON.parse(run.diagnostics['not-readable.json']!);
    assert.deepEqual(notReadable.map((n: { read: string; reason: string; permission: string }) => [n.read, n.reason, n.permission]), [
      ['list events of Node d-worker-1', 'forbidden (HTTP 403)', '{apiGroups: [""], resources: ["events"], verbs: ["list"]} (Role in namespace default)'],
    ]);
    const notReady = JSON.parse(run.diagnostics['nodes-not-ready.json']!);
    assert.deepEqual(notReady.map((n: { node: string }) => n.node), ['d-worker-1']);
    assert.match(notReady[0].events, /^not readable: forbidden \(HTTP 403\)/);
    assert.doesNotMatch(run.stdout, /list events of Node[^\n]*retrying/);
    assert.deepEqual(JSON.parse(run.diagnostics['operators.json']!).map((o: { name: string }) => o.name), ['monitoring']);
    const outputs = JSON.parse(run.diagnostics['outputs.json']!);
    assert.equal(outputs['diagnostics-path'], run.outputs['diagnostics-path']);
    assert.equal(outputs['unstable-operators'], run.outputs['unstable-operators']);
  } finally {
    await restore();
  }
});

test('registry-timeout while the API server cannot answer (etcd stalled): the run still ends on time', { timeout: 120_000 }, async (t) => {
  // No registry operator: the Config never appears, so the action polls for it until
  // registry-timeout; etcd is stalled just before that, so the last reads hang.
  await bed.install({ controlPlaneNodes: 0, registry: false });
  await bed.cp.admin.request('DELETE', PATHS.registryConfig, { okStatuses: [200, 404] });
  const action = startAction(bed.cp, { 'registry-storage': 'emptyDir', 'registry-timeout': '8s', 'wait-for-operators': 'false' });
  // registry-timeout counts from the phase's first line, not from the process start: on a busy
  // machine the start-up and the preflight took seconds of the 6 before the stall.
  const started = await until(() => {
    if (/\[registry\] configuring image registry storage/.test(action.stdoutSoFar())) return Date.now();
    if (action.child.exitCode !== null) throw new Error(`the action exited before its registry phase:\n${action.stdoutSoFar()}`);
    return undefined;
  }, { message: 'the registry phase started', timeoutMs: 30_000, intervalMs: 20 });
  await new Promise((r) => setTimeout(r, started + 6000 - Date.now()));
  bed.cp.pauseEtcd();
  let run;
  try {
    run = await action.done;
  } finally {
    bed.cp.resumeEtcd();
  }
  const late = Date.now() - started - 8000;
  t.diagnostic(`ended ${(late / 1000).toFixed(1)} s after registry-timeout`);
  assert.equal(run.outputs.result, 'timeout', run.stdout);
  assert.match(run.stdout, /::error::the imageregistry Config "cluster" did not appear before registry-timeout/);
  assert.ok(late < AFTER_DEADLINE_MS, `ended ${late} ms after the deadline`);
});

const ACTION_ROLE = '/apis/rbac.authorization.k8s.io/v1/clusterroles/openshift-finish-install';

/** Takes `resource` out of the action's ClusterRole and waits until the authorizer refuses `verb` on it; returns the restore. */
async function revoke(resource: string, group: string, verb: string): Promise<() => Promise<void>> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const role: any = await bed.cp.admin.request('GET', ACTION_ROLE);
  const rules = (role.rules as Rule[]).filter((r) => !(r.resources ?? []).includes(resource));
  assert.ok(rules.length < role.rules.length, `deploy/rbac.yaml grants ${resource}`);
  await bed.cp.admin.request('PUT', ACTION_ROLE, { body: { ...role, rules } });
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group, resource } } };
  await untilObserved(
    () => bed.cp.action.request<{ status?: { allowed?: boolean } }>('POST', PATHS.selfSubjectAccessReviews, { body: review }),
    (answer) => !answer.status?.allowed,
    { message: `the action identity refused ${verb} ${resource} after the ClusterRole changed`, timeoutMs: 15_000 },
  );
  return async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const current: any = await bed.cp.admin.request('GET', ACTION_ROLE);
    await bed.cp.admin.request('PUT', ACTION_ROLE, { body: { ...current, rules: role.rules } });
  };
}

test('the role loses list and watch on ClusterOperators during the operator wait: the run ends as error, forbidden, naming the verb and resource', { timeout: 180_000 }, async () => {
  await bed.install({ controlPlaneNodes: 0, registry: false, clusterVersion: false, operators: { scripted: { 'f-steady': [{ atMs: 0, ...STABLE }] } } });
  // The stable period outlasts operators-timeout: without the refusal this run ends as a timeout.
  const action = startAction(bed.cp, { 'stable-period': '10m', 'operators-timeout': '2m', 'wait-for-cluster-version': 'false' });
  await until(() => {
    if (/\[operators\] waiting for every ClusterOperator to be stable/.test(action.stdoutSoFar())) return true;
    if (action.child.exitCode !== null) throw new Error(`the action exited before its operator wait:\n${action.stdoutSoFar()}`);
    return undefined;
  }, { message: 'the operator wait started', timeoutMs: 30_000, intervalMs: 50 });
  const restore = await revoke('clusteroperators', 'config.openshift.io', 'list');
  try {
    const run = await action.done;
    assert.equal(run.outputs.result, 'error', run.stdout);
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /::error::forbidden: (list|watch) clusteroperators\.config\.openshift\.io: [^\n]*cannot (list|watch) resource [^\n]*clusteroperators[^\n]*; grant it to the identity's role \(deploy\/rbac\.yaml\)/);
    assert.doesNotMatch(run.stdout, /::error::ClusterOperators not stable/);
  } finally {
    await restore();
  }
});

const WEBHOOKS = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

test('registry-timeout while the API server answers 500 to every patch of the registry Config (a failing admission webhook): ends as timeout naming the call', { timeout: 240_000 }, async () => {
  await bed.install({ controlPlaneNodes: 0, registry: false, clusterVersion: false });
  // The Config as the operator leaves it on bare metal (Removed); no operator acts on it.
  await bed.cp.admin.request('DELETE', PATHS.registryConfig, { okStatuses: [200, 404] });
  await bed.cp.admin.request('POST', PATHS.registryConfigs, {
    body: { apiVersion: 'imageregistry.operator.openshift.io/v1', kind: 'Config', metadata: { name: 'cluster' }, spec: { managementState: 'Removed', replicas: 1, storage: {}, logLevel: 'Normal' } },
  });
  // A validating webhook nobody serves, failurePolicy Fail: every update of a registry Config is
  // answered 500 (failed calling webhook), as a broken admission webhook does on a real cluster.
  const webhook = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'ofi-test-registry-webhook-down' },
    webhooks: [{
      name: 'registry-webhook-down.ofi.test',
      clientConfig: { url: 'https://127.0.0.1:1/validate', caBundle: Buffer.from(bed.cp.caPem).toString('base64') },
      rules: [{ apiGroups: ['imageregistry.operator.openshift.io'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['configs'] }],
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 2,
    }],
  };
  await bed.cp.admin.request('POST', WEBHOOKS, { body: webhook });
  try {
    await untilObserved(
      () => bed.cp.admin.requestRaw('PATCH', PATHS.registryConfig, { body: { metadata: { labels: { probe: String(Date.now()) } } }, contentType: 'application/merge-patch+json' }).then((r) => r.status),
      (status) => status === 500,
      { message: 'the API server calls the webhook on updates of the registry Config', timeoutMs: 15_000 },
    );
    const run = await runAction(bed.cp, { 'registry-storage': 'emptyDir', 'registry-timeout': '10s', 'wait-for-operators': 'false' });
    assert.equal(run.outputs.result, 'timeout', run.stdout);
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /::error::Image registry not configured before registry-timeout: patch imageregistry Config cluster failed: HTTP 500 [^\n]*failed calling webhook/);
  } finally {
    await bed.cp.admin.request('DELETE', `${WEBHOOKS}/${webhook.metadata.name}`, { okStatuses: [200, 404] });
  }
});
