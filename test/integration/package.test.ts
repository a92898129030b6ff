// The installed npm package against the real API server: `npm pack`, `npm install -g` into a
// temporary prefix, then the installed command finishes a simulated install under the
// least-privilege identity, as a user on a bastion host would run it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runProcess } from '../env/process.ts';
import { packAndInstall, type InstalledPackage } from '../unit/package.ts';
import { parseCliJson, sharedControlPlane } from './harness.ts';

const bed = sharedControlPlane();
let installed: InstalledPackage;
before(() => {
  installed = packAndInstall();
});
after(() => {
  installed?.remove();
});

test('the installed package approves the listed machines and writes its report', { timeout: 180_000 }, async () => {
  await bed.install({ controlPlaneNodes: 1, workers: [{ name: 'p-worker-0', addresses: ['10.4.2.10'] }, { name: 'p-worker-1', addresses: ['10.4.2.11'] }] });
  const summary = join(bed.dir, 'summary.md');
  writeFileSync(summary, '');
  const args = ['--kubeconfig', bed.cp.writeKubeconfig('action'), '--nodes', 'p-worker-0 10.4.2.10 p-worker-0, p-worker-1 10.4.2.11 p-worker-1', '--no-wait-for-operators', '--nodes-timeout', '90s', '--poll-interval', '2s', '--output', 'json'];
  const { code, stdout, stderr } = await runProcess(installed.command, args, { env: { PATH: installed.path, HOME: bed.dir, GITHUB_STEP_SUMMARY: summary } });
  assert.equal(code, 0, stderr);
  const result = parseCliJson(stdout);
  assert.equal(result.result, 'success');
  assert.equal(result['nodes-ready'], true);
  assert.deepEqual(result.nodes.map((n) => [n.name, n.ready, n.servingIssued]), [['p-worker-0', true, true], ['p-worker-1', true, true]]);
  assert.ok(result['approved-csrs'].length >= 4, 'a client and a serving request per machine');
  assert.ok(!stderr.includes(bed.cp.actionToken) && !stdout.includes(bed.cp.actionToken), 'the token never printed');
  const markdown = readFileSync(summary, 'utf8');
  assert.match(markdown, /^## OpenShift finish-install: ✅ success/);
  assert.match(markdown, /```mermaid\n---\ndisplayMode: compact\n---\ngantt\n/);
});
