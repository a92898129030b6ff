// More than one client certificate for one node name is reported as a warning wherever the run's
// result is shown; the count itself is in the `nodes` output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newReport, toOutputs } from '../../src/report/report.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { renderText } from '../../src/report/text.ts';

const report = () => {
  const r = newReport(0, false);
  r.nodes = [
    { name: 'worker-0', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 1 },
    { name: 'worker-1', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 3 },
  ];
  return r;
};

test('the nodes output carries clientCertificates for each node', () => {
  const nodes = JSON.parse(toOutputs(report()).nodes!) as Array<Record<string, unknown>>;
  assert.deepEqual(nodes.map((n) => [n.name, n.clientCertificates]), [['worker-0', 1], ['worker-1', 3]]);
  assert.deepEqual(Object.keys(nodes[0]!).sort(), ['clientApproved', 'clientCertificates', 'name', 'ready', 'servingIssued']);
});

test('a second client certificate for one name is a warning in the job summary and the CLI report', () => {
  const summary = renderSummary(report());
  assert.match(summary, /> \[!WARNING\]\n> 3 client certificates were issued for node worker\\-1 in this run/, "the node name escaped as Markdown text");
  assert.doesNotMatch(summary, /for node worker-0/);
  const text = renderText(report());
  assert.match(text, /warning: 3 client certificates were issued for node worker-1/);
  assert.doesNotMatch(text, /for node worker-0/);
});
