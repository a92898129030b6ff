// The --watch service's reload of --nodes-file (src/cli/inputs.ts over src/cli/nodes-file.ts),
// read every second: a change is taken once it parses and has kept its content for the settle
// time; a content that does not parse is warned about once, not on every reading.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliInputs } from '../../src/cli/inputs.ts';
import { NODES_FILE_SETTLE_MS } from '../../src/cli/nodes-file.ts';
import type { CliOptions } from '../../src/cli/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'ofi-nodes-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function service(name: string, initial: string) {
  const nodesFile = join(dir, name);
  writeFileSync(nodesFile, initial);
  const warnings: string[] = [];
  let clock = 1_000_000;
  const options: CliOptions = { inputs: {}, output: 'text', watch: true, nodesFile };
  const inputs = cliInputs(options, { info() {}, debug() {}, warning: (m) => warnings.push(m) }, () => clock);
  assert.equal(inputs.read('inventory'), nodesFile, '--nodes-file is the inventory input');
  /** Readings once a second for `seconds`, returning the names of each list taken, with its second. */
  const readFor = (seconds: number): string[] => {
    const taken: string[] = [];
    for (let i = 0; i < seconds; i++) {
      const nodes = inputs.reloadNodes();
      if (nodes) taken.push(`${i}: ${nodes.map((n) => n.name).join(',')}`);
      clock += 1000;
    }
    return taken;
  };
  return { file: nodesFile, warnings, readFor };
}

test('nodes file: a content that does not parse is warned about once per distinct content, not every second', () => {
  const s = service('bad', 'w-0 10.0.0.1\n');
  writeFileSync(s.file, 'w-0 10.0.0.1\nw-1 not-an-address!\n');
  assert.deepEqual(s.readFor(30), []);
  assert.equal(s.warnings.length, 1, s.warnings.join('\n'));
  assert.match(s.warnings[0]!, /^ignoring the changed nodes file: Option --nodes-file|^ignoring the changed nodes file: .*not-an-address/);
  writeFileSync(s.file, 'w-0 10.0.0.1\nw-1 still bad!\n');
  assert.deepEqual(s.readFor(30), []);
  assert.equal(s.warnings.length, 2, 'a new content that does not parse: warned about once more');
  writeFileSync(s.file, '');
  assert.deepEqual(s.readFor(10), []);
  assert.equal(s.warnings.length, 3);
  assert.match(s.warnings[2]!, /is empty; the previous list stays/);
  unlinkSync(s.file);
  assert.deepEqual(s.readFor(10), []);
  assert.equal(s.warnings.length, 4);
  assert.match(s.warnings[3]!, /cannot read .*ENOENT/);
  for (let i = 0; i < 10; i++) {
    writeFileSync(s.file, i % 2 ? 'w-0 10.0.0.1\nw-1 not-an-address!\n' : 'w-0 10.0.0.1\nw-1 still bad!\n');
    assert.deepEqual(s.readFor(3), []);
  }
  assert.equal(s.warnings.length, 4, 'two bad contents written in turn: each was warned about already');
  writeFileSync(s.file, 'w-0 10.0.0.1\nw-1 10.0.0.2\n');
  assert.deepEqual(s.readFor(10), [`${NODES_FILE_SETTLE_MS / 1000}: w-0,w-1`], 'a usable content taken after the settle time, once');
  assert.equal(s.warnings.length, 4);
});

test('nodes file: a half-written file (rewritten in place) is never taken, only the content it settles on', () => {
  const s = service('half', 'w-0 10.0.0.1\nw-1 10.0.0.2\nw-2 10.0.0.3\n');
  // A tool rewriting the file in place: truncated, then the first line (which parses: a list
  // without w-1 and w-2), then the rest a second later.
  writeFileSync(s.file, 'w-0 10.0.0.1\n');
  assert.deepEqual(s.readFor(1), []);
  writeFileSync(s.file, 'w-0 10.0.0.1\nw-1 10.0.0.2\nw-2 10.0.0.3\nw-3 10.0.0.4\n');
  assert.deepEqual(s.readFor(NODES_FILE_SETTLE_MS / 1000 + 2), [`${NODES_FILE_SETTLE_MS / 1000}: w-0,w-1,w-2,w-3`]);
  // Back to the content in use before it settled: nothing to take.
  writeFileSync(s.file, 'w-0 10.0.0.1\n');
  assert.deepEqual(s.readFor(1), []);
  writeFileSync(s.file, 'w-0 10.0.0.1\nw-1 10.0.0.2\nw-2 10.0.0.3\nw-3 10.0.0.4\n');
  assert.deepEqual(s.readFor(10), []);
  assert.deepEqual(s.warnings, []);
});

test('nodes file: an OpenShift nodes-config.yaml is taken as the lines are; one that is no inventory is warned about naming --nodes-file', () => {
  const s = service('nodes-config.yaml', 'w-0 10.0.0.1\n');
  const config = (hosts: string[]) =>
    `hosts:\n${hosts.map((h, i) => `  - hostname: ${h}\n    networkConfig:\n      interfaces:\n        - name: eth0\n          ipv4: { enabled: true, dhcp: false, address: [{ ip: 10.0.0.${i + 1}, prefix-length: 24 }] }\n`).join('')}`;
  writeFileSync(s.file, config(['w-0', 'w-1']));
  assert.deepEqual(s.readFor(NODES_FILE_SETTLE_MS / 1000 + 1), [`${NODES_FILE_SETTLE_MS / 1000}: w-0,w-1`]);
  writeFileSync(s.file, 'apiVersion: v1\nbaseDomain: example.com\n');
  assert.deepEqual(s.readFor(10), []);
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0]!, /^ignoring the changed nodes file: Option --nodes-file: .*nodes-config\.yaml is a YAML mapping without a hosts list/);
});
