import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newReport, toOutputs } from '../../src/report/report.ts';
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
  assert.deepEqual(Object.keys(outputs).sort(), ['approved-csrs', 'diagnostics-path', 'duration-seconds', 'nodes', 'nodes-ready', 'operators-stable', 'refused-csrs', 'registry', 'result', 'unstable-operators']);
  assert.equal(outputs['duration-seconds'], '2');
  assert.equal(outputs.registry, '{}');
  for (const key of ['approved-csrs', 'refused-csrs', 'nodes', 'unstable-operators']) assert.deepEqual(JSON.parse(outputs[key]!), []);
});
