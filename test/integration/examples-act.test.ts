// examples/upi-pipeline.yml (the README's `needs:` example) run by a real workflow engine:
// nektos/act (test/env/act.ts), on the host, with the Node 24 of this checkout, against the test
// control plane. Only what cannot run here is swapped, in the workflow text at test time:
//   - actions/checkout         -> a `run:` step copying this checkout (action.yml, dist/) into the workspace
//   - OWNER/...@v1             -> `uses: ./` (the action of this checkout, dist/index.js), with
//                                 stable-period 5s added (the default, 5m, is five minutes of waiting)
//   - actions/upload-artifact  -> a local composite stand-in with the same inputs, copying `path`
//   - openshift-install, oc and ./provision.sh are commands on the runner: stand-ins on its PATH and
//     in the workspace. "Provision the machines" boots the simulated install (test/sim/install.ts):
//     the test starts it when the step asks, and "Wait for the bootstrap" waits for it; the
//     installer's kubeconfig is the least-privilege one of deploy/rbac.yaml.
// Every other line runs as written: the job outputs, `needs:`, fromJSON, `if: failure()`, env:.
// The deploy job's kubeconfig is passed as the secret DEPLOY_KUBECONFIG, and act's whole log is
// searched for it. About 10 s for the finished install, 2 s for the failing one, on 2 cores once act
// is built (about 2 minutes, once per machine, cached).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseDocument } from 'yaml';
import { PATHS } from '../../src/cluster/paths.ts';
import { ensureAct } from '../env/act.ts';
import { startProcess } from '../env/process.ts';
import { until } from '../env/until.ts';
import { KNOWN_CAPABILITIES } from '../sim/cluster-version.ts';
import type { InstallOptions } from '../sim/install.ts';
import { fencedBlocks } from '../unit/markdown.ts';
import { sharedControlPlane } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLE = 'examples/upi-pipeline.yml';
const STABLE_PERIOD = '5s';
const bed = sharedControlPlane();
let act: string;
before(async () => {
  act = await ensureAct();
});

/** The README's GitHub workflows that gate a job on this action with `needs:`. */
function readmeNeedsExamples(): string[] {
  return fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'))
    .filter((b) => b.lang === 'yaml' && /^jobs:/m.test(b.text) && /^\s+needs:/m.test(b.text) && /openshift-finish-install@/.test(b.text))
    .map((b) => b.text);
}

// A composite action with upload-artifact's inputs: copies `path` to $OFI_TEST/artifacts/<name>.
const UPLOAD_STAND_IN = `name: upload-artifact stand-in
inputs:
  name: { required: true }
  path: { required: true }
  retention-days: { required: false }
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: \${{ inputs.name }}
        SOURCE: \${{ inputs.path }}
      run: mkdir -p "$OFI_TEST/artifacts/$NAME" && cp -R "$SOURCE"/. "$OFI_TEST/artifacts/$NAME/"
`;

// The runner's commands. The installer writes its admin kubeconfig and waits for the machines
// the provisioning booted; oc records what it was asked and whether it got the deploy kubeconfig.
const OPENSHIFT_INSTALL = `#!/bin/bash
set -eu
case "$1 $2" in
  "create ignition-configs") mkdir -p "$4/auth" && cp "$OFI_TEST/installer-kubeconfig" "$4/auth/kubeconfig" && echo "stand-in: ignition configs in $4" ;;
  "wait-for bootstrap-complete") until [ -e "$OFI_TEST/booted" ]; do sleep 0.1; done; echo "stand-in: bootstrap complete" ;;
  *) echo "stand-in openshift-install: unexpected $*" >&2; exit 2 ;;
esac
`;
const OC = `#!/bin/bash
{ printf 'oc %s\\n' "$*"; cmp -s "$KUBECONFIG" "$OFI_TEST/deploy-kubeconfig" && echo "KUBECONFIG: the deploy kubeconfig"; } >> "$OFI_TEST/oc.log"
`;
const PROVISION = `#!/bin/bash
# stand-in: the test boots the simulated machines when asked, and says when they are up
set -eu
touch "$OFI_TEST/provision-requested"
until [ -e "$OFI_TEST/booted" ]; do sleep 0.1; done
echo "stand-in: machines provisioned"
`;

type Step = Record<string, unknown> & { uses?: string; with?: Record<string, unknown> };

/** The workflow with the steps that cannot run here swapped; everything else as written. */
function transform(workflow: string): string {
  const doc = parseDocument(workflow);
  assert.deepEqual(doc.errors, []);
  const jobs = doc.toJS().jobs as Record<string, { steps: Step[] }>;
  const swapped = new Set<string>();
  for (const job of Object.values(jobs)) {
    job.steps = job.steps.map((step): Step => {
      const uses = step.uses ?? '';
      if (/^actions\/checkout@/.test(uses)) {
        swapped.add('checkout');
        const { uses: _, with: __, ...rest } = step;
        return { name: 'Check out (stand-in: this checkout)', ...rest, run: 'cp -R "$OFI_TEST/checkout/." .' };
      }
      if (/(^|\/)openshift-finish-install@/.test(uses)) {
        swapped.add('action');
        // The one input added: the operators' stable period, 5 minutes of waiting by default.
        return { ...step, uses: './', with: { ...step.with, 'stable-period': STABLE_PERIOD } };
      }
      if (/^actions\/upload-artifact@/.test(uses)) {
        swapped.add('upload');
        return { ...step, uses: './.ofi-test/upload-artifact' };
      }
      assert.equal(step.uses, undefined, `no stand-in for ${step.uses}`);
      return step;
    });
  }
  assert.ok(swapped.has('checkout') && swapped.has('action'), 'the workflow checks out and runs this action');
  const out = doc.toJS() as Record<string, unknown>;
  out.jobs = jobs;
  return JSON.stringify(out, null, 2); // JSON is YAML; the expressions stay strings
}

interface ActRun {
  code: number | null;
  log: string;
  dir: string;
  ocLog: string;
  artifacts: Record<string, string[]>;
}

/**
 * Runs `workflow` under act, every runs-on label mapped to the host; when its provisioning step
 * asks, starts the simulated install. OFI_ACT_LOG=<file> keeps act's log for a look.
 */
async function runWorkflow(workflow: string, install: InstallOptions): Promise<ActRun> {
  const dir = mkdtempSync(join(bed.dir, 'act-'));
  const repo = join(dir, 'repo');
  const checkout = join(dir, 'checkout');
  const bin = join(dir, 'bin');
  for (const d of [repo, checkout, bin, join(repo, '.github', 'workflows'), join(checkout, '.ofi-test', 'upload-artifact'), join(checkout, 'manifests')]) mkdirSync(d, { recursive: true });
  // the workflow's repository: a git repository, as act expects
  writeFileSync(join(repo, '.github', 'workflows', 'upi-pipeline.yml'), transform(workflow));
  execFileSync('git', ['init', '-q', repo]);
  execFileSync('git', ['-C', repo, '-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-q', '--allow-empty', '-m', 'test']);
  // what the checkout stand-in copies: the action, the stand-ins, the files the steps read
  cpSync(join(ROOT, 'action.yml'), join(checkout, 'action.yml'));
  cpSync(join(ROOT, 'dist'), join(checkout, 'dist'), { recursive: true });
  writeFileSync(join(checkout, '.ofi-test', 'upload-artifact', 'action.yml'), UPLOAD_STAND_IN);
  writeFileSync(join(checkout, 'install-config.yaml'), 'apiVersion: v1\nmetadata:\n  name: ocp\n');
  writeFileSync(join(checkout, 'manifests', 'kustomization.yaml'), 'resources: []\n');
  writeFileSync(join(checkout, 'provision.sh'), PROVISION, { mode: 0o755 });
  writeFileSync(join(bin, 'openshift-install'), OPENSHIFT_INSTALL);
  writeFileSync(join(bin, 'oc'), OC);
  for (const b of ['openshift-install', 'oc']) chmodSync(join(bin, b), 0o755);
  const kubeconfig = bed.cp.kubeconfig('action');
  writeFileSync(join(dir, 'installer-kubeconfig'), kubeconfig, { mode: 0o600 });
  writeFileSync(join(dir, 'deploy-kubeconfig'), kubeconfig, { mode: 0o600 });

  const labels = [...new Set([...workflow.matchAll(/runs-on:\s*\[([^\]]*)\]|runs-on:\s*(\S+)/g)].flatMap((m) => (m[1] ?? m[2]!).split(',').map((l) => l.trim())))];
  const platforms = labels.flatMap((l) => ['-P', `${l}=-self-hosted`]);
  const env = {
    // Node 24 of this checkout first (node24 actions run under the node on the PATH), the stand-ins before the rest
    PATH: `${bin}:${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    HOME: dir,
    OFI_TEST: dir,
    DEPLOY_KUBECONFIG: kubeconfig,
  };
  const args = ['workflow_dispatch', '-W', join(repo, '.github', 'workflows', 'upi-pipeline.yml'), ...platforms, '-s', 'DEPLOY_KUBECONFIG', '--action-cache-path', join(dir, 'act-cache'), '--no-cache-server', '--action-offline-mode'];
  const run = startProcess(act, args, { cwd: repo, env, timeoutMs: 300_000 });
  // "Provision the machines": the simulated install boots when the step asks for it
  const provisioned = until(() => existsSync(join(dir, 'provision-requested')) || run.child.exitCode !== null, { message: 'the provisioning step ran', timeoutMs: 120_000 }).then(async () => {
    if (!existsSync(join(dir, 'provision-requested'))) return;
    await bed.install(install);
    writeFileSync(join(dir, 'booted'), '');
  });
  const [done] = await Promise.all([run.done, provisioned]);
  const artifactsDir = join(dir, 'artifacts');
  const artifacts = Object.fromEntries(existsSync(artifactsDir) ? readdirSync(artifactsDir).map((name) => [name, readdirSync(join(artifactsDir, name)).sort()]) : []);
  const ocLog = existsSync(join(dir, 'oc.log')) ? readFileSync(join(dir, 'oc.log'), 'utf8') : '';
  if (process.env.OFI_ACT_LOG) writeFileSync(process.env.OFI_ACT_LOG, done.stdout + done.stderr);
  return { code: done.code, log: done.stdout + done.stderr, dir, ocLog, artifacts };
}

/** The kubeconfig and its token appear nowhere in act's log (raw, base64, or line by line). */
function assertNoSecret(log: string): void {
  const kubeconfig = bed.cp.kubeconfig('action');
  assert.ok(!log.includes(bed.cp.actionToken), 'the token is not in act\'s log');
  assert.ok(!log.includes(Buffer.from(kubeconfig).toString('base64').slice(0, 40)), 'no base64 kubeconfig in act\'s log');
  for (const line of kubeconfig.split('\n').filter((l) => l.trim().length > 24)) {
    assert.ok(!log.includes(line.trim()), `kubeconfig line not in act's log: ${line.trim().slice(0, 30)}…`);
  }
}

/** act's lines of one job ("[UPI install/deploy ] ..."; it pads the job names to one width). */
const jobLines = (log: string, job: string) => log.split('\n').filter((l) => new RegExp(`^\\[UPI install/${job} *\\]`).test(l));

const machines = (): InstallOptions => ({
  controlPlaneNodes: 3,
  workers: [
    { name: 'worker-0', addresses: ['10.0.1.20'], labels: { 'node-role.kubernetes.io/worker': '' } },
    { name: 'worker-1', addresses: ['10.0.1.21'], labels: { 'node-role.kubernetes.io/worker': '' } },
  ],
  operators: { converging: { names: ['dns', 'network', 'ingress'], withinMs: 1000, seed: 5 } },
  registry: { rolloutMs: 500 },
  pools: [{ name: 'worker', rolloutMs: 500 }],
});

async function reset(): Promise<void> {
  await bed.stopInstalls();
  for (const path of [PATHS.clusterVersions, PATHS.clusterOperators, PATHS.machineConfigPools, PATHS.registryConfigs]) {
    await bed.cp.admin.request('DELETE', path, { okStatuses: [200, 404] });
  }
}

test('the README\'s needs: example is examples/upi-pipeline.yml, so running the file runs it', () => {
  const examples = readmeNeedsExamples();
  assert.ok(examples.length >= 1, 'the README shows a workflow whose deploy job needs the install job');
  for (const text of examples) assert.equal(text, readFileSync(join(ROOT, EXAMPLE), 'utf8'), 'a README needs: example that is not the file: run it here too');
});

test('act runs examples/upi-pipeline.yml: the install finishes, the deploy job runs and reads the outputs; no secret in the log', { timeout: 600_000 }, async () => {
  const run = await runWorkflow(readFileSync(join(ROOT, EXAMPLE), 'utf8'), machines());
  try {
    assert.equal(run.code, 0, run.log);
    const install = jobLines(run.log, 'install').join('\n');
    assert.match(install, /stand-in: machines provisioned/);
    assert.match(install, /Success - Main Finish the install/);
    assert.doesNotMatch(install, /Upload the diagnostics/, 'the diagnostics upload is skipped on success');
    const deploy = jobLines(run.log, 'deploy').join('\n');
    assert.match(deploy, /OpenShift 4\.\d+\.0 finished in \d+s; nodes worker-0, worker-1; registry on claim image-registry-storage/, 'the deploy job read the outputs through needs: and fromJSON');
    assert.match(deploy, /Job succeeded/);
    assert.equal(run.ocLog, 'oc apply -k manifests/\nKUBECONFIG: the deploy kubeconfig\n', 'oc ran with the secret kubeconfig');
    assertNoSecret(run.log);
  } finally {
    await reset();
  }
});

test('act runs examples/upi-pipeline.yml on a failing install: the deploy job does not run, the diagnostics reach the upload step; no secret in the log', { timeout: 600_000 }, async () => {
  // A cluster installed without the ImageRegistry capability: registry-storage pvc fails at once.
  const run = await runWorkflow(readFileSync(join(ROOT, EXAMPLE), 'utf8'), {
    ...machines(),
    registry: { capabilityDisabled: true },
    operators: { scripted: { 'image-registry': [{ atMs: 0, available: 'False', progressing: 'False', degraded: 'True', message: 'no registry on this cluster' }] } },
    clusterVersion: { enabledCapabilities: KNOWN_CAPABILITIES.filter((c) => c !== 'ImageRegistry') },
  });
  try {
    assert.notEqual(run.code, 0, 'act reports the failed workflow');
    const install = jobLines(run.log, 'install').join('\n');
    assert.match(install, /Failure - Main Finish the install/);
    assert.match(install, /ImageRegistry capability/);
    assert.match(install, /Success - Main Upload the diagnostics/, 'if: failure() && diagnostics-path != \'\' held');
    assert.deepEqual(jobLines(run.log, 'deploy').filter((l) => /Deploy the workloads/.test(l)), [], 'the deploy job did not run');
    assert.equal(run.ocLog, '', 'oc never ran');
    const uploaded = run.artifacts['finish-install-diagnostics'] ?? [];
    for (const file of ['outputs.json', 'operators.json', 'csrs-refused.json']) assert.ok(uploaded.includes(file), `${file} uploaded (got ${uploaded.join(', ')})`);
    const outputs = JSON.parse(readFileSync(join(run.dir, 'artifacts', 'finish-install-diagnostics', 'outputs.json'), 'utf8'));
    assert.equal(outputs.result, 'error');
    assertNoSecret(run.log);
  } finally {
    await reset();
  }
});
