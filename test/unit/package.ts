// Builds the npm tarball (`npm pack`) and installs it into a temporary global prefix, as a user
// would (`npm install -g ./openshift-finish-install-*.tgz`), offline: the bundles carry every
// dependency, so the install must not need the registry.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

export interface InstalledPackage {
  /** The tarball's path. */
  tarball: string;
  /** Paths inside the tarball, relative to its package/ folder. */
  files: string[];
  /** The installed command, `<prefix>/bin/openshift-finish-install`. */
  command: string;
  /** PATH with this Node first, so that the command's `#!/usr/bin/env node` finds Node 24. */
  path: string;
  /** Deletes the tarball and the prefix. */
  remove(): void;
}

function npm(args: string[], cwd: string, path: string): string {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, encoding: 'utf8', env: { ...process.env, PATH: path } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export function packAndInstall(): InstalledPackage {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-pack-'));
  const path = [dirname(process.execPath), process.env.PATH ?? ''].join(':');
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root, path)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(dir, packed!.filename);
  const prefix = join(dir, 'prefix');
  // --offline: installing must not fetch anything; a dependency left out of the bundles fails here.
  npm(['install', '--global', '--offline', '--prefix', prefix, tarball], dir, path);
  return {
    tarball,
    files: packed!.files.map((f) => f.path).sort(),
    command: join(prefix, 'bin', 'openshift-finish-install'),
    path,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
