// nektos/act, the workflow engine the examples run under (test/integration/examples-act.test.ts):
// a Go module built with `go install` through the module proxy (DOMAIN 9), pinned, once per
// machine, cached beside the control plane and never committed.
//   node test/env/act.ts        builds it if missing and prints its path (ensure.ts all does too)
// ACT_BIN points at another build.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { cacheDir, goBinary } from './ensure.ts';

/** The pinned release: runs a workflow on the host (`-P <label>=-self-hosted`) with the node on PATH. */
export const ACT_MODULE = 'github.com/nektos/act';
export const ACT_VERSION = 'v0.2.89';

/** What the build shares with the control plane's (ensure.ts). */
interface Toolchain {
  cacheDir: typeof cacheDir;
  goBinary: typeof goBinary;
}

/**
 * The path of the act binary, building it on first use. ensure.ts passes its toolchain (a static
 * import of ensure.ts here would make its top-level await wait on itself); others load it.
 */
export async function ensureAct(toolchain?: Toolchain): Promise<string> {
  const fromEnv = process.env.ACT_BIN;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`ACT_BIN=${fromEnv} is not executable`);
    return fromEnv;
  }
  const { cacheDir, goBinary } = toolchain ?? (await import('./ensure.ts'));
  const go = goBinary();
  const digest = createHash('sha256').update(`${ACT_MODULE}@${ACT_VERSION} ${go.version}`).digest('hex').slice(0, 10);
  const target = join(cacheDir(), 'bin', `act-${ACT_VERSION}-${digest}`);
  const act = join(target, 'act');
  if (executable(act)) return act;

  const t0 = Date.now();
  console.log(`examples: building act ${ACT_VERSION} from its Go module (first use on this machine: about 2 minutes on 2 cores, measured); cache ${target}`);
  await mkdir(join(cacheDir(), 'bin'), { recursive: true });
  const out = await mkdtemp(join(cacheDir(), 'bin', `.act-${ACT_VERSION}-`));
  try {
    await goInstall(go.path, `${ACT_MODULE}@${ACT_VERSION}`, out);
    await rm(target, { recursive: true, force: true });
    await rename(out, target);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  console.log(`examples: built act ${ACT_VERSION} in ${Math.round((Date.now() - t0) / 1000)}s`);
  return act;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goInstall(go: string, module: string, gobin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-trimpath -buildvcs=false' };
    const child = spawn(go, ['install', '-ldflags=-s -w', module], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${module} failed (exit ${code}):\n${output.split('\n').slice(-40).join('\n')}`))));
  });
}

if (import.meta.main) {
  try {
    console.log(`ensure: act ${ACT_VERSION}: ${await ensureAct()}`);
  } catch (e) {
    console.error(`ensure: ${(e as Error).message}`);
    process.exit(1);
  }
}
