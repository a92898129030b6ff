// The installed npm package against the real API server: `npm pack`, `npm install -g` into a
// temporary prefix, then the installed command finishes a simulated install under the
// least-privilege identity, as a user on a bastion host would run it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { startInstall, type SimulatedInstall } from '../sim/install.ts';
import { packAndInstall, type InstalledPackage } from '../unit/package.ts';

let cp: ControlPlane;
let installed: InstalledPackage;
let sim: SimulatedInstall | undefined;
before(async () => {
  installed = packAndInstall();
  cp = await startControlPlane();
});
after(async () => {
  await sim?.stop();
  await cp?.stop();
  installed?.remove();
});

test('the installed package approves the listed machines and writes its report', { timeout: 180_000 }, async () => {
  sim = await startInstall(cp, { controlPlaneNodes: 1, registry: false, workers: [{ name: 'p-worker-0', addresses: ['10.4.2.10'] }, { name: 'p-worker-1', addresses: ['10.4.2.11'] }] });
  const dir = mkdtempSync(join(tmpdir(), 'ofi-package-'));
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, '');
  const args = ['--kubeconfig', cp.writeKubeconfig('action'), '--nodes', 'p-worker-0 10.4.2.10 p-worker-0, p-worker-1 10.4.2.11 p-worker-1', '--no-wait-for-operators', '--nodes-timeout', '90s', '--poll-interval', '2s', '--output', 'json'];
  const child = spawn(installed.command, args, { env: { PATH: installed.path, HOME: dir, GITHUB_STEP_SUMMARY: summary } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.equal(result.result, 'success');
  assert.equal(result['nodes-ready'], true);
  assert.deepEqual(result.nodes.map((n: { name: string; ready: boolean; servingIssued: boolean }) => [n.name, n.ready, n.servingIssued]), [['p-worker-0', true, true], ['p-worker-1', true, true]]);
  assert.ok(result['approved-csrs'].length >= 4, 'a client and a serving request per machine');
  assert.ok(!stderr.includes(cp.actionToken) && !stdout.includes(cp.actionToken), 'the token never printed');
  const markdown = readFileSync(summary, 'utf8');
  assert.match(markdown, /^## OpenShift finish-install: ✅ success/);
  assert.match(markdown, /```mermaid\n---\ndisplayMode: compact\n---\ngantt\n/);
});
