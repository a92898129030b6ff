// Builds test/x509diff/main.go (stdlib only) once per source version into the cache, and runs it
// over a batch of requests: what the Kubernetes signer's Go code reads from each.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;

export interface GoReading {
  id: number;
  error?: string;
  cn: string;
  o: string[];
  names: Array<{ type: string; value: string }>;
  dns: string[];
  /** hex of the address bytes, as carried (4 or 16 bytes) */
  ip: string[];
  email: string[];
  uri: string[];
  signatureValid: boolean;
  signatureError?: string;
}

/** GO_BIN, else Go 1.26 where these machines keep it, else `go` on PATH. */
function goBinary(): string {
  if (process.env.GO_BIN) return process.env.GO_BIN;
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  return 'go';
}

/** The path of the built parser; builds it when its sources changed (about 30 s with a cold Go cache). */
export function buildGoParser(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'main.go']) hash.update(readFileSync(join(here, file)));
  const cache = process.env.OFI_CACHE_DIR ?? join(homedir(), '.cache', 'openshift-finish-install');
  const dir = join(cache, 'x509diff', hash.digest('hex').slice(0, 16));
  const binary = join(dir, 'x509diff');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  const go = goBinary();
  const result = spawnSync(go, ['build', '-trimpath', '-o', partial, '.'], {
    cwd: here,
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOPROXY: 'off', CGO_ENABLED: '0' },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`could not build ${here}main.go with ${go} (set GO_BIN to a Go >= 1.22): ${result.error?.message ?? result.stderr}`);
  }
  renameSync(partial, binary);
  return binary;
}

/** Go's reading of each request (base64 spec.request), in order. */
export function readWithGo(binary: string, requests: readonly string[]): GoReading[] {
  const input = requests.map((request, id) => JSON.stringify({ id, request })).join('\n') + '\n';
  const result = spawnSync(binary, [], { input, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.error || result.status !== 0) throw new Error(`x509diff failed: ${result.error?.message ?? result.stderr}`);
  const readings = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as GoReading);
  if (readings.length !== requests.length) throw new Error(`x509diff answered ${readings.length} of ${requests.length} requests`);
  return readings;
}
