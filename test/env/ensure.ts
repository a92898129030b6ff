// `node test/env/ensure.ts` builds (once per machine) the control plane binaries the integration
// tests run; ensureBinaries() finds them.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Binaries { apiserver: string; controllerManager: string; etcd: string }

export function cacheDir(): string {
  return process.env.OFI_CACHE_DIR || join(homedir(), '.cache', 'openshift-finish-install');
}

export async function ensureBinaries(): Promise<Binaries> {
  const bin = join(cacheDir(), 'bin');
  const missing: string[] = [];
  const find = (envVar: string, candidates: string[]): string => {
    const fromEnv = process.env[envVar];
    const found = fromEnv ? (executable(fromEnv) ? fromEnv : undefined) : candidates.find(executable);
    if (!found) missing.push(fromEnv ? `${envVar}=${fromEnv} is not executable` : `${envVar} (looked in ${candidates.join(', ')})`);
    return found ?? '';
  };
  const onPath = (name: string) => (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  const result = {
    apiserver: find('KUBE_APISERVER_BIN', [join(bin, 'kube-apiserver')]),
    controllerManager: find('KUBE_CONTROLLER_MANAGER_BIN', [join(bin, 'kube-controller-manager')]),
    etcd: find('ETCD_BIN', [join(bin, 'etcd'), ...onPath('etcd')]),
  };
  if (missing.length) throw new Error(`control plane binaries missing (run \`node test/env/ensure.ts\`): ${missing.join('; ')}`);
  return result;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const script = fileURLToPath(new URL('./build-control-plane.sh', import.meta.url));
  const run = spawnSync('bash', [script], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`ensure: ${script} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
    process.exit(1);
  }
  try {
    const found = await ensureBinaries();
    console.log(`ensure: kube-apiserver ${found.apiserver}, kube-controller-manager ${found.controllerManager}, etcd ${found.etcd}`);
  } catch (e) {
    console.error(`ensure: ${(e as Error).message}`);
    process.exit(1);
  }
}
