import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOutputs } from '../integration/harness.ts';

const root = new URL('../../', import.meta.url).pathname;

test('dist/ and action.yml match a fresh build', () => {
  const result = spawnSync(process.execPath, ['scripts/build.ts', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr + result.stdout);
});

test('the bundle starts (no missing module) and rejects a bad input before touching a cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-bundle-'));
  const outputs = join(dir, 'out');
  writeFileSync(outputs, '');
  const result = spawnSync(process.execPath, ['dist/index.js'], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir, GITHUB_OUTPUT: outputs, 'INPUT_REGISTRY-STORAGE': 'nfs' },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /::error::Input 'registry-storage': 'nfs' is not a known value\. Accepted: keep, emptyDir, pvc\./);
  assert.equal(parseOutputs(readFileSync(outputs, 'utf8')).result, 'error');
});

test('the bundles stay lean: unused library code left out, built-ins taken with require (scripts/bundle-plugins.ts)', () => {
  for (const bundle of ['dist/index.js', 'dist/cli.js']) {
    const text = readFileSync(join(root, bundle), 'utf8');
    // Before the plugins: 2.09 MB and 1.70 MB, with client-node's generated API client in both.
    assert.ok(text.length < 1.5 * 1024 * 1024, `${bundle} is ${text.length} bytes, over 1.5 MiB: did unused library code come back?`);
    assert.doesNotMatch(text, /CoreV1Api|V1PodSpec/, `${bundle} holds client-node's generated API client`);
    const imports = [...text.matchAll(/\bimport\s*(?:[\w*{}\s,]+from\s*)?["']([^"']+)["']/g)].map((m) => m[1]);
    assert.deepEqual(imports, ['node:module'], `${bundle} imports ${imports.join(', ')}: only node:module, for the require shim`);
  }
});
