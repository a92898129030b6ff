// The npm package: `npm pack`, installed globally into a temporary prefix, gives a working
// `openshift-finish-install` with the package.json version, and ships only what a user needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { VERSION } from '../../src/version.ts';
import { packAndInstall } from './package.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: object };

test('npm pack installs with npm install -g and gives a working command', { timeout: 120_000 }, (t) => {
  const installed = packAndInstall();
  t.after(() => installed.remove());
  const examples = installed.files.filter((f) => f.startsWith('examples/'));
  assert.ok(examples.length >= 5, `the examples are in the package: ${installed.files.join(', ')}`);
  const docs = installed.files.filter((f) => f.startsWith('docs/'));
  assert.ok(docs.includes('docs/troubleshooting.md') && docs.includes('docs/cli.md'), `the pages the README links to are in the package: ${docs.join(', ')}`);
  assert.deepEqual(
    installed.files.filter((f) => !f.startsWith('examples/') && !f.startsWith('docs/')),
    ['CHANGELOG.md', 'CONTRIBUTING.md', 'LICENSE', 'README.md', 'SECURITY.md', 'deploy/rbac.yaml', 'dist/cli.js', 'dist/index.js', 'package.json'],
    'only the bundles, the README and the pages it links to, the license, the RBAC and the examples',
  );
  assert.equal(pkg.dependencies, undefined, 'the bundles carry every dependency: an install downloads nothing');

  const run = (...args: string[]) => spawnSync(installed.command, args, { encoding: 'utf8', env: { PATH: installed.path, HOME: '/nonexistent' } });
  const version = run('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `${pkg.version}\n`);
  const help = run('--help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: openshift-finish-install \[options\]/);
  assert.match(help.stdout, /--version\n/);
  const bad = run('--registry-storage', 'nfs');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Option --registry-storage: 'nfs' is not a known value/);
});

test('the version is written in package.json only', () => {
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[\w.]+)?$/);
  assert.equal(VERSION, pkg.version, 'from source, the version is read from package.json');
  assert.ok(readFileSync(new URL('../../dist/cli.js', import.meta.url), 'utf8').includes(JSON.stringify(pkg.version)), 'the bundle carries the version scripts/build.ts injected');
});
