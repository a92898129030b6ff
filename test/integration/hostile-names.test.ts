// Issue 22 on the real API server: CSRs whose names, common names and SANs are written to forge
// workflow commands, Markdown and terminal controls. The action's whole log is read line by line
// the way the GitHub runner (both forms) and Azure Pipelines' agent read it: it holds no command
// but the action's own. The outputs keep the names exactly for a program, and 1,000 forged
// requests still fit through `env:` into the next step.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { bounded } from '../../src/escape.ts';
import { commandsIn, HOSTILE_TEXT, INVISIBLE } from '../env/runner-commands.ts';
import { BOOTSTRAPPER, nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { renderGfm } from '../unit/markdown.ts';
import { csrTestBed, runAction } from './harness.ts';

const { bed, install, nodeInputs } = csrTestBed();

/** The commands the action itself writes (@actions/core): anything else in its log was forged. */
const OWN_COMMANDS = new Set(['group', 'endgroup', 'warning', 'error', 'debug', 'add-mask', 'notice']);

/** Hostile text the API accepts as a CSR name: no '/', no '%', not '.' or '..', short enough to be a key. */
const NAMES = HOSTILE_TEXT.filter((t) => !/[/%]/.test(t) && t !== '.' && t !== '..' && t.length <= 2000 && t.trim() !== '').map((t) => t.replace(/\p{Cs}/gu, '\ufffd'));

test('CSRs named to forge commands, Markdown and terminal controls: the log holds only the action\'s own commands', { timeout: 300_000 }, async () => {
  const node = 'hn-worker-0';
  const sim = await install({ workers: [{ name: node, addresses: ['10.4.0.10'] }] });
  const client = (name: string, cn: string) =>
    sim.adversary.file('hostile name', { name, identity: BOOTSTRAPPER, signerName: SIGNER.kubeletClient, usages: USAGES.client, spec: { commonName: `system:node:${cn}`, organizations: ['system:nodes'] } });
  const filed: string[] = [];
  for (const [i, text] of NAMES.entries()) filed.push(await client(`${text}`, `${i} ${text.slice(0, 200)}`));
  assert.deepEqual(filed, NAMES, 'the API server took every hostile name as it was (a lone surrogate is not JSON text)');
  // A listed node's own serving request with SANs no kubelet sends: refused, and its SAN text only shown escaped.
  const forgedSan = await sim.adversary.file('hostile SAN', {
    identity: nodeIdentity(node),
    signerName: SIGNER.kubeletServing,
    usages: USAGES.serving,
    spec: { commonName: `system:node:${node}`, organizations: ['system:nodes'], dnsNames: [node, 'x\r##[error]forged SAN', 'y ##vso[task.complete]z'], ipAddresses: ['10.4.0.10'] },
  });

  const run = await runAction(bed.cp, nodeInputs([node]));
  assert.equal(run.outputs.result, 'success', run.stdout);
  const lines = run.stdout.split('\n');
  const foreign = lines.flatMap((line, i) => commandsIn(line).filter((c) => c.form !== 'v2' || !OWN_COMMANDS.has(c.name)).map((c) => `line ${i + 1}: ${c.form} ${c.name}: ${line.slice(0, 160)}`));
  assert.deepEqual(foreign, [], 'no command formed from cluster text');
  const masked = lines.flatMap((line) => commandsIn(line)).filter((c) => c.name === 'add-mask').map((c) => c.data);
  for (const text of NAMES) assert.ok(!masked.includes(text), 'no hostile add-mask');
  assert.ok(!lines.some((line) => INVISIBLE.test(line)), 'no control, format or bidi character in the log');
  assert.ok(lines.some((line) => line.includes('left Pending') || line.includes('refused')), 'the refusals were logged');

  const refused = run.json('refused-csrs') as Array<{ name: string; node: string; reason: string }>;
  for (const name of NAMES) assert.ok(refused.some((r) => r.name === bounded(name)), `refused-csrs names ${JSON.stringify(name.slice(0, 60))} exactly (cut at 300 characters)`);
  assert.equal(refused.find((r) => r.name === forgedSan)?.reason !== undefined, true, 'the forged SAN is refused');
  assert.match(run.outputs['refused-csrs']!, /^[\x20-\x22\x24-\x7e]*$/, 'the raw output is printable ASCII without #');

  const html = renderGfm(run.summary);
  const headings = [...html.matchAll(/<h\d>(.*?)<\/h\d>/g)].map((m) => m[1]);
  assert.ok(headings.every((h) => /^(OpenShift finish-install: |Nodes|Certificate requests|Cluster operators|Timeline)/.test(h!)), `only the action's headings: ${headings.join(' / ')}`);
  assert.doesNotMatch(html.replace(/<details>|<\/details>|<summary>Every event<\/summary>/g, ''), /<(a|img|details|em|del|blockquote)\b/);
  const pending = /Left Pending[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  assert.equal([...pending.matchAll(/<tr>/g)].length, refused.length, 'one Left Pending row per refused request');
});

test('1,000 forged requests with long names: refused-csrs stays bounded and still reaches a step through env:', { timeout: 300_000 }, async () => {
  const prefix = `flood-${'x'.repeat(400)}`;
  const sim = await install({ workers: [] });
  const names: string[] = [];
  for (let i = 0; i < 1000; i += 25) {
    names.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => sim.adversary.file('flood', { name: `${prefix}-${i + j}`, identity: BOOTSTRAPPER, signerName: SIGNER.kubeletClient, usages: USAGES.client, spec: { commonName: `system:node:flood-${i + j}`, organizations: ['system:nodes'] } })))));
  }
  const run = await runAction(bed.cp, nodeInputs(['hn-not-booted'], { 'dry-run': 'true' }));
  const refused = run.json('refused-csrs') as Array<{ name: string }>;
  const omitted = Number(run.outputs['refused-csrs-omitted']);
  const flood = refused.filter((r) => r.name.startsWith('flood-')).length;
  assert.ok(flood > 0 && refused.length <= 100, `${refused.length} entries`);
  assert.ok(omitted >= 1000 - flood, `omitted ${omitted}`);
  assert.ok(Buffer.byteLength(run.outputs['refused-csrs']!) <= 32 * 1024);
  // The README's audit step: the output passed through env: to a shell that echoes it.
  const step = spawnSync('bash', ['-c', 'echo "would refuse:  $REFUSED" | wc -c'], { env: { PATH: process.env.PATH, REFUSED: run.outputs['refused-csrs'] }, encoding: 'utf8' });
  assert.equal(step.status, 0, step.stderr);
  // The full list is kept in the diagnostics folder.
  const full = JSON.parse(run.diagnostics['csrs-refused.json'] ?? '[]') as Array<{ name: string }>;
  assert.equal(full.filter((r) => r.name.startsWith(prefix)).length, 1000, 'every forged request listed in csrs-refused.json');
  assert.ok(names.length === 1000);
});
