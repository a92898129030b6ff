import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mermaidText } from '../../src/report/gantt.ts';
import { newReport, toOutputs, type RunReport } from '../../src/report/report.ts';
import { cell, renderSummary, SUMMARY_LIMIT } from '../../src/report/summary.ts';

test('summary escapes cluster-provided text', () => {
  assert.equal(cell('a|b\n<script>'), 'a&#124;b &lt;script&gt;');
  const report = newReport(0, false);
  report.unstableOperators = [{ name: 'evil', available: 'False', progressing: 'True', degraded: 'True', message: '| <img src=x onerror=alert(1)> [link](http://x)' }];
  const text = renderSummary(report);
  assert.ok(!text.includes('<img'));
  assert.ok(text.includes('\\[link\\](http'), 'link brackets are escaped');
});

test('summary stays under the size limit with many rows', () => {
  const report = newReport(0, false);
  report.refusedCsrs = Array.from({ length: 5000 }, (_, i) => ({ name: `csr-${i}`, signer: 's', requestor: 'x'.repeat(400), node: 'n', reason: 'node-not-listed' as const }));
  report.approvedCsrs = Array.from({ length: 20000 }, (_, i) => `csr-approved-${i}`);
  const text = renderSummary(report);
  assert.ok(Buffer.byteLength(text) <= SUMMARY_LIMIT);
  assert.match(text, /more rows not shown|summary truncated/);
});

test('outputs are all present and JSON where the contract says so', () => {
  const outputs = toOutputs({ ...newReport(0, false), finishedAt: 2400 });
  assert.deepEqual(Object.keys(outputs).sort(), ['approved-csrs', 'cluster-version', 'diagnostics-path', 'duration-seconds', 'machine-config-pools', 'nodes', 'nodes-ready', 'operators-stable', 'refused-csrs', 'registry', 'result', 'unstable-operators']);
  assert.equal(outputs['cluster-version'], '{}', 'not read: {}');
  assert.equal(outputs['machine-config-pools'], '[]');
  assert.equal(outputs['duration-seconds'], '2');
  assert.equal(outputs.registry, '{}');
  for (const key of ['approved-csrs', 'refused-csrs', 'nodes', 'unstable-operators']) assert.deepEqual(JSON.parse(outputs[key]!), []);
});

test('summary timeline: a short table, then one Mermaid gantt chart, then every event', () => {
  const report = newReport(1_000_000, false);
  report.nodes = [{ name: 'worker-0', clientApproved: true, servingIssued: true, ready: true } as RunReport['nodes'][number]];
  report.timeline = [
    { at: 1_012_400, node: 'worker-0', event: 'client approved' },
    { at: 1_031_800, node: 'worker-0', event: 'serving issued' },
    { at: 1_029_500, node: 'worker-0', event: 'ready' },
  ];
  report.finishedAt = 1_040_000;
  const text = renderSummary(report);
  assert.match(text, /\| worker-0 \| \+12\.4s \| \+31\.8s \| \+29\.5s \|/);
  assert.equal([...text.matchAll(/^```mermaid\n---\ndisplayMode: compact\n---\ngantt\n/gm)].length, 1);
  assert.match(text, /section worker-0\n.*:t0, 1000000, 12400ms\n.*:done, t1, 1012400, 17100ms\n {4}client approved \+12\.4s, Ready \+29\.5s, serving issued \+31\.8s:active, t2, 1029500, 2300ms\n```/);
  assert.ok(text.indexOf('```mermaid') < text.indexOf('<details><summary>Every event</summary>'));
  assert.equal(renderSummary({ ...report, dryRun: true }).includes('```mermaid'), false, 'no chart of a dry-run');
});

test('Mermaid text: only a safe set of characters is left as is', () => {
  assert.equal(mermaidText('worker-0.ocp.example.com'), 'worker-0.ocp.example.com');
  assert.equal(mermaidText('a:b;c#d%e\n`f'), 'a#58;b#59;c#35;d#37;e #96;f');
  assert.equal(mermaidText('x'.repeat(500)).length, 200);
});
