import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
  assert.ok(statSync(join(root, 'dist/index.js')).size < 3 * 1024 * 1024, 'bundle under 3 MB');
});
