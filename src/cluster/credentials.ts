import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** What one request authenticates with, beyond the kubeconfig's TLS settings. */
export interface Credential {
  readonly authorization?: string;
  /** A client certificate an exec plugin returned (PEM). */
  readonly cert?: string;
  readonly key?: string;
}

/**
 * Where a request's credential comes from. A long-running --watch outlives its token: a
 * `tokenFile` is read again every minute (client-go's cached file token source does the same)
 * and an exec plugin runs again when its credential expires; either is refreshed at once when
 * the server answers 401, and the request is sent once more.
 */
export interface CredentialSource {
  current(): Promise<Credential>;
  /**
   * Forgets `used` after a 401 when it is still the cached credential (another request may have
   * fetched a new one already: as client-go, refresh once, not once per request); false when
   * nothing can change (static credentials).
   */
  invalidate(used: Credential): boolean;
}

export interface ExecConfig {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: ReadonlyArray<{ name: string; value: string }>;
  readonly apiVersion?: string;
}

export const TOKEN_FILE_PERIOD_MS = 60_000;
const EXEC_TIMEOUT_MS = 20_000;

/**
 * No credential to send: a tokenFile that cannot be read, an exec plugin that failed, hung or
 * printed nothing usable. Not retried, and not taken for an unreachable server (retry-policy.ts).
 */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

export function staticCredentials(credential: Credential): CredentialSource {
  return { current: () => Promise.resolve(credential), invalidate: () => false };
}

export function tokenFileCredentials(path: string, now: () => number = Date.now): CredentialSource {
  let cached: { token: string; readAt: number } | undefined;
  return {
    async current() {
      if (!cached || now() - cached.readAt > TOKEN_FILE_PERIOD_MS) {
        let token: string;
        try {
          token = (await readFile(path, 'utf8')).trim();
        } catch (error) {
          // A file being rewritten may be missing for a moment: keep the last token until it is back.
          if (!cached) throw new CredentialError(`cannot read the kubeconfig tokenFile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
          token = cached.token;
        }
        cached = { token, readAt: now() };
      }
      return { authorization: `Bearer ${cached.token}` };
    },
    invalidate(used) {
      // Read again at the next request; the token is kept in case the file is missing then.
      if (cached && used.authorization === `Bearer ${cached.token}`) cached = { ...cached, readAt: -Infinity };
      return true;
    },
  };
}

/**
 * A client.authentication.k8s.io ExecCredential plugin (as kubectl runs it, never interactive).
 * A run that takes longer than `timeoutMs` (the request timeout) is killed, with whatever it started.
 */
export function execCredentials(exec: ExecConfig, now: () => number = Date.now, timeoutMs: number = EXEC_TIMEOUT_MS): CredentialSource {
  let cached: { credential: Credential; expiresAt: number } | undefined;
  let running: Promise<Credential> | undefined;
  return {
    current() {
      if (cached && now() < cached.expiresAt) return Promise.resolve(cached.credential);
      running ??= runPlugin(exec, timeoutMs)
        .then(({ credential, expiresAt }) => {
          cached = { credential, expiresAt };
          return credential;
        })
        .finally(() => (running = undefined));
      return running;
    },
    invalidate(used) {
      if (cached && cached.credential === used) cached = undefined;
      return true;
    },
  };
}

async function runPlugin(exec: ExecConfig, timeoutMs: number): Promise<{ credential: Credential; expiresAt: number }> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) };
  for (const { name, value } of exec.env ?? []) env[name] = value;
  const output = await new Promise<string>((resolve, reject) => {
    // Its own process group: a timeout kills the plugin and whatever it started, which would
    // otherwise keep its output open (a shell script waiting on a login helper).
    const child = spawn(exec.command, [...(exec.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const settle = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(stdout);
    };
    const timer = setTimeout(() => {
      settle(new CredentialError(`the kubeconfig exec plugin ${exec.command} did not finish within ${timeoutMs / 1000} s (the request timeout) and was killed${lastLine(stderr) ? `; it said: ${lastLine(stderr)}` : ''}`));
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      child.stdout.destroy();
      child.stderr.destroy();
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => settle(new CredentialError(`the kubeconfig exec plugin ${exec.command} could not run: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return settle(undefined);
      const why = lastLine(stderr) || (signal ? `killed by ${signal}` : `exit code ${code}`);
      settle(new CredentialError(`the kubeconfig exec plugin ${exec.command} failed: ${why}`));
    });
  });
  let status: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } | undefined;
  try {
    status = (JSON.parse(output) as { status?: typeof status }).status;
  } catch {
    status = undefined;
  }
  if (!status || (!status.token && !status.clientCertificateData)) {
    throw new CredentialError(`the kubeconfig exec plugin ${exec.command} printed no ExecCredential with a token or client certificate`);
  }
  const expiry = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : NaN;
  return {
    credential: {
      ...(status.token ? { authorization: `Bearer ${status.token}` } : {}),
      ...(status.clientCertificateData ? { cert: status.clientCertificateData, key: status.clientKeyData ?? '' } : {}),
    },
    // No expiry: kept until the server refuses it (client-go does the same).
    expiresAt: Number.isFinite(expiry) ? expiry : Infinity,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0] ?? '';
}
