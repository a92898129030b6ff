import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIST_OUTPUT_LIMITS, listsCut, newReport, toOutputs, type RunReport } from '../../src/report/report.ts';
import { renderText } from '../../src/report/text.ts';
import { commandsIn, HOSTILE_TEXT, INVISIBLE } from '../env/runner-commands.ts';
import { renderGfm } from './markdown.ts';
import { renderSummary, SUMMARY_LIMIT, truncated } from '../../src/report/summary.ts';

test('summary escapes cluster-provided text', () => {
  const report = newReport(0, false);
  report.unstableOperators = [{ name: 'evil', available: 'False', progressing: 'True', degraded: 'True', message: '| <img src=x onerror=alert(1)> [link](http://x)' }];
  const html = renderGfm(renderSummary(report));
  assert.doesNotMatch(html, /<img|<a /);
  assert.match(html, /\| &lt;img src=x onerror=alert\(1\)&gt; \[link\]\(http:\/\/x\)/, 'shown as text');
});

/** A report whose every cluster-provided field is hostile text. */
function hostileReport(): RunReport {
  const report = { ...newReport(1_000_000, false), result: 'timeout' as const, finishedAt: 1_060_000 };
  report.failure = `3 nodes not Ready: ${HOSTILE_TEXT[0]}`;
  report.refusedCsrs = HOSTILE_TEXT.map((name) => ({ name, signer: 'kubernetes.io/kube-apiserver-client-kubelet', requestor: name, node: name, reason: 'node-not-listed' as const }));
  report.approvedCsrs = HOSTILE_TEXT.slice(0, 5);
  report.unstableOperators = HOSTILE_TEXT.map((message, i) => ({ name: `op-${i}`, available: 'False', progressing: 'True', degraded: 'True', message }));
  report.clusterVersion = { version: HOSTILE_TEXT[1]!, completed: false, available: true, progressing: true, failing: true, message: HOSTILE_TEXT[17]! };
  report.registryWaitingFor = HOSTILE_TEXT[16]!;
  return report;
}

test('summary of hostile text: every table keeps its rows, the page keeps its headings, nothing links', () => {
  const report = hostileReport();
  const html = renderGfm(renderSummary(report));
  const headings = [...html.matchAll(/<h(\d)>(.*?)<\/h\d>/g)].map((m) => m[2]);
  assert.deepEqual(headings, ['OpenShift finish-install: ⏱️ timeout', 'Certificate requests', 'Completion', 'Cluster operators']);
  assert.doesNotMatch(html, /<(a|img|details open|em|code|del|blockquote|ul|ol)\b/);
  const tables = [...html.matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)].map((m) => [...m[1]!.matchAll(/<tr>/g)].length);
  assert.deepEqual(tables, [HOSTILE_TEXT.length, 1, HOSTILE_TEXT.length], 'Left Pending, Completion and the operators: one row each');
  assert.ok(!INVISIBLE.test(html.replace(/\n/g, '').replace('⏱️', '')), 'no invisible character but the variation selector of our own ⏱️');
});

test('CLI report of hostile text: no forged line, no command, no terminal control', () => {
  const text = renderText(hostileReport());
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('result: ')).length, 1, 'one result line');
  for (const line of lines) {
    assert.deepEqual(commandsIn(line), [], line.slice(0, 120));
    assert.ok(!INVISIBLE.test(line), line.slice(0, 120));
  }
  assert.equal(lines.filter((l) => l.startsWith('  left Pending: ')).length, HOSTILE_TEXT.length);
});

test('outputs of 1,000 forged requests with long names: bounded, counted, still JSON, still passable through env', () => {
  const report = newReport(0, false);
  report.refusedCsrs = Array.from({ length: 1000 }, (_, i) => ({ name: `node-csr-${i}-${'x'.repeat(400)}`, signer: 'kubernetes.io/kube-apiserver-client-kubelet', requestor: 'system:serviceaccount:openshift-machine-config-operator:node-bootstrapper', node: `forged-${i}`, reason: 'node-not-listed' as const }));
  const outputs = toOutputs(report);
  assert.ok(Buffer.byteLength(outputs['refused-csrs']!) <= LIST_OUTPUT_LIMITS.bytes, `${Buffer.byteLength(outputs['refused-csrs']!)} bytes`);
  const kept = JSON.parse(outputs['refused-csrs']!) as Array<{ name: string }>;
  assert.ok(kept.length > 0 && kept.length <= LIST_OUTPUT_LIMITS.entries);
  assert.equal(Number(outputs['refused-csrs-omitted']), 1000 - kept.length);
  assert.match(kept[0]!.name, /^node-csr-0-x+…\(\d+ more characters\)$/, 'a long name is cut with a note');
  assert.ok(listsCut(report));
  const few = { ...report, refusedCsrs: report.refusedCsrs.slice(0, 3).map((r) => ({ ...r, name: 'csr-a' })) };
  assert.equal(toOutputs(few)['refused-csrs-omitted'], '0');
  assert.equal(listsCut(few), false);
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
  assert.deepEqual(Object.keys(outputs).sort(), ['approved-csrs', 'approved-csrs-omitted', 'cluster-version', 'diagnostics-path', 'duration-seconds', 'machine-config-pools', 'nodes', 'nodes-ready', 'operators-stable', 'refused-csrs', 'refused-csrs-omitted', 'registry', 'result', 'unstable-operators']);
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
  assert.match(text, /\| worker\\-0 \| \\\+12\\\.4s \| \\\+31\\\.8s \| \\\+29\\\.5s \|/);
  assert.equal([...text.matchAll(/^```mermaid\n---\ndisplayMode: compact\n---\ngantt\n/gm)].length, 1);
  assert.match(text, /section worker-0\n.*:t0, 1000000, 12400ms\n.*:done, t1, 1012400, 17100ms\n {4}client approved \+12\.4s, Ready \+29\.5s, serving issued \+31\.8s:active, t2, 1029500, 2300ms\n```/);
  assert.ok(text.indexOf('```mermaid') < text.indexOf('<details><summary>Every event</summary>'));
  assert.equal(renderSummary({ ...report, dryRun: true }).includes('```mermaid'), false, 'no chart of a dry-run');
});


test('approved-csrs: names a listed machine chose are bounded too, counted, and kept whole for the diagnostics', () => {
  const report = newReport(0, false);
  report.approvedCsrs = Array.from({ length: 2000 }, (_, i) => `${i}-${'\u{1F600}'.repeat(300)}`);
  const outputs = toOutputs(report);
  assert.ok(Buffer.byteLength(outputs['approved-csrs']!) <= 64 * 1024, `${Buffer.byteLength(outputs['approved-csrs']!)} bytes`);
  const kept = JSON.parse(outputs['approved-csrs']!) as string[];
  assert.equal(Number(outputs['approved-csrs-omitted']), 2000 - kept.length);
  assert.ok(listsCut(report));
  const text = renderText(report);
  assert.match(text, /and 1900 more/, 'the CLI report names the first 100');
  const ordinary = { ...report, approvedCsrs: Array.from({ length: 4000 }, (_, i) => `csr-${String(i).padStart(5, '0')}`) };
  assert.equal(toOutputs(ordinary)['approved-csrs-omitted'], '0', '4,000 generated names (2,000 machines) fit');
});

test('summary: cut by bytes, not characters, never inside a character, fences and details closed', () => {
  const report = newReport(0, false);
  report.refusedCsrs = Array.from({ length: 2000 }, (_, i) => ({ name: `${i}-${'漢'.repeat(300)}`, signer: 's', requestor: 'r', node: '字'.repeat(300), reason: 'node-not-listed' as const }));
  report.approvedCsrs = Array.from({ length: 2000 }, (_, i) => `${i}-${'漢'.repeat(300)}`);
  const text = renderSummary(report);
  assert.ok(Buffer.byteLength(text) <= SUMMARY_LIMIT, `${Buffer.byteLength(text)} bytes`);
  const cut = truncated(`<details>\n\n\`\`\`mermaid\n${'漢'.repeat(1000)}`, 1000);
  assert.ok(!cut.includes('\ufffd'), 'no half character');
  assert.equal((cut.match(/^```/gm) ?? []).length % 2, 0, 'fence closed');
  assert.match(cut, /<\/details>\n\n_summary truncated_\n$/);
});

test('issue 24: the machines listed without addresses and the requested durations, in the summary, the CLI report and refused-csrs', () => {
  const report = { ...newReport(0, false), result: 'success' as const, finishedAt: 60_000 };
  report.nodes = [
    { name: 'worker-3', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 1 },
    { name: 'worker-4', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 1 },
  ];
  report.undeclared = { names: ['worker-4'], bounds: 'within the machine networks 10.0.1.0/24 (from input machine-networks), never in the service network (172.30.0.0/16) …' };
  report.approvedCsrs = ['csr-a', 'csr-b'];
  report.requestedDurations = [{ name: 'csr-b', expirationSeconds: 3600 }];
  report.refusedCsrs = [
    { name: 'csr-c', signer: 'kubernetes.io/kubelet-serving', requestor: 'system:node:worker-4', node: 'worker-4', reason: 'san-service-network' },
    { name: 'csr-d', signer: 'kubernetes.io/kubelet-serving', requestor: 'system:node:worker-3', node: 'worker-3', reason: 'requested-duration-too-long', expirationSeconds: 31_536_000 },
  ];
  const html = renderGfm(renderSummary(report));
  assert.match(html, /Listed without addresses \(undeclared\): worker-4\. Their serving certificates may carry the InternalIP\/ExternalIP addresses their Nodes report, within the machine networks 10\.0\.1\.0\/24/);
  assert.match(html, /Requested durations \(spec\.expirationSeconds; the signer caps each at its own maximum\): csr-b 3600s\./);
  assert.match(html, /<th>Reason<\/th>\n<th>Requested duration<\/th>/);
  assert.match(html, /<td>san-service-network<\/td>\n<td>-<\/td>/);
  assert.match(html, /<td>requested-duration-too-long<\/td>\n<td>31536000s<\/td>/);
  const text = renderText(report);
  assert.match(text, /Listed without addresses \(undeclared\): worker-4\./);
  assert.match(text, /left Pending: csr-d \(worker-3, kubernetes\.io\/kubelet-serving, asks for 31536000s\): requested-duration-too-long/);
  const refused = JSON.parse(toOutputs(report)['refused-csrs']!);
  assert.deepEqual(refused.map((r: { expirationSeconds?: number }) => r.expirationSeconds), [undefined, 31_536_000], 'expirationSeconds only where the request asks for one');
  assert.deepEqual(Object.keys(refused[0]), ['name', 'signer', 'requestor', 'node', 'reason']);
});
