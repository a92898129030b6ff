import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { execCredentials, staticCredentials, tokenFileCredentials, type CredentialSource, type ExecConfig } from './credentials.ts';
import type { Impersonation } from './kubeconfig-files.ts';
import { proxyFor, proxySettingsFromEnv } from './proxy.ts';
import { Transport, type TlsSettings } from './transport.ts';

export interface ConnectOptions {
  /** The current user's kubeconfig `tokenFile` (client-node does not read it), as an absolute path. */
  readonly tokenFile?: string;
  /** The current user's `as`, `as-uid`, `as-groups`, `as-user-extra` (client-node reads only `as`). */
  readonly impersonate?: Impersonation;
  readonly env?: NodeJS.ProcessEnv;
  readonly requestTimeoutMs: number;
}

/** The transport for the kubeconfig's current context: its TLS settings, credential and proxy. */
export function transportFor(config: KubeConfig, options: ConnectOptions): Transport {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const tlsSettings: TlsSettings = {
    ...bytes('ca', cluster.caFile, cluster.caData),
    ...bytes('cert', user?.certFile, user?.certData),
    ...bytes('key', user?.keyFile, user?.keyData),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  return new Transport({
    server: cluster.server,
    tls: tlsSettings,
    headers: impersonationHeaders(options.impersonate ?? { ...(user?.impersonateUser ? { user: user.impersonateUser } : {}), groups: [], extra: {} }),
    credentials: credentialsFor(config, options.tokenFile, options.requestTimeoutMs),
    proxy: proxyFor(cluster.server, cluster.proxyUrl, proxySettingsFromEnv(options.env ?? process.env)),
    requestTimeoutMs: options.requestTimeoutMs,
  });
}

/** client-go's order: an exec plugin or auth provider; a tokenFile (it wins over token); a token; a user name and password. */
function credentialsFor(config: KubeConfig, tokenFile: string | undefined, timeoutMs: number): CredentialSource {
  const user = config.getCurrentUser();
  // A plugin that hangs is bounded like a request that hangs.
  if (user?.exec) return execCredentials(user.exec as ExecConfig, Date.now, timeoutMs);
  if (user?.authProvider) {
    // oidc, azure, gcp: client-node's authenticators cache and refresh their own tokens.
    return {
      async current() {
        const opts: { headers: Record<string, string> } = { headers: {} };
        await config.applyToHTTPSOptions(opts);
        return opts.headers.Authorization ? { authorization: opts.headers.Authorization } : {};
      },
      invalidate: () => false,
    };
  }
  if (tokenFile) return tokenFileCredentials(tokenFile);
  if (user?.token) return staticCredentials({ authorization: `Bearer ${user.token}` });
  if (user?.username && user.password) return staticCredentials({ authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` });
  return staticCredentials({});
}

/** client-go's impersonating round tripper: one Impersonate-Group per group, extra keys %-escaped to header tokens. */
function impersonationHeaders(impersonate: Impersonation): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  if (impersonate.user) headers['Impersonate-User'] = impersonate.user;
  if (impersonate.uid) headers['Impersonate-Uid'] = impersonate.uid;
  if (impersonate.groups.length) headers['Impersonate-Group'] = [...impersonate.groups];
  for (const [key, values] of Object.entries(impersonate.extra)) {
    if (values.length) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = [...values];
  }
  return headers;
}

function headerKeyEscape(key: string): string {
  return [...Buffer.from(key, 'utf8')].map((b) => (/[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function bytes<K extends string>(name: K, file: string | null | undefined, data: string | null | undefined): Partial<Record<K, Buffer>> {
  if (data) return { [name]: Buffer.from(data, 'base64') } as Record<K, Buffer>;
  if (file) return { [name]: readFileSync(file) } as Record<K, Buffer>;
  return {};
}
