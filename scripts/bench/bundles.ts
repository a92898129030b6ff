// The bundles the benchmark runs: which file, how big, which build (sha256, and the commit that
// committed it as dist/index.js when it is one of this repository's).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BundleInfo {
  path: string;
  bytes: number;
  sha256?: string;
  /** "the dist/index.js committed in abc1234 …", when git knows the file */
  committed?: string;
}

export function describeBundle(path: string): BundleInfo {
  const bytes = readFileSync(path);
  return { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), committed: committedAs(path) };
}

/**
 * Where this exact file was committed as dist/index.js: the oldest commit that added the blob,
 * and the one that replaced it, if any (git log --find-object lists both, newest first).
 */
function committedAs(path: string): string | undefined {
  try {
    const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const blob = git(['hash-object', path]);
    const commits = git(['log', '--format=%h', `--find-object=${blob}`, '--', 'dist/index.js']).split('\n').filter(Boolean);
    if (!commits.length) return undefined;
    const added = commits.at(-1)!;
    return commits.length > 1 ? `the dist/index.js committed in ${added}, replaced in ${commits[0]}` : `the dist/index.js committed in ${added}, still the committed one`;
  } catch {
    return undefined;
  }
}

/**
 * A copy of the baseline bundle beside a package.json of `"type": "module"`, as dist/index.js
 * sits in this package: elsewhere Node would first try the ESM bundle as CommonJS and parse it
 * twice (module syntax detection), which would show in the baseline's cold start. Removed when
 * the bench exits.
 */
export function stageBaseline(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-bench-baseline-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const staged = join(dir, 'index.js');
  writeFileSync(staged, readFileSync(path));
  return staged;
}
