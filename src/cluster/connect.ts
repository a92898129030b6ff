import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { execCredentials, staticCredentials, tokenFileCredentials, type CredentialSource, type ExecConfig } from './credentials.ts';
import { proxyFor, proxySettingsFromEnv } from './proxy.ts';
import { Transport, type TlsSettings } from './transport.ts';

export interface ConnectOptions {
  /** The current user's kubeconfig `tokenFile` (client-node does not read it), as an absolute path. */
  readonly tokenFile?: string;
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
  const headers: Record<string, string> = {};
  if (user?.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
  return new Transport({
    server: cluster.server,
    tls: tlsSettings,
    headers,
    credentials: credentialsFor(config, options.tokenFile),
    proxy: proxyFor(cluster.server, cluster.proxyUrl, proxySettingsFromEnv(options.env ?? process.env)),
    requestTimeoutMs: options.requestTimeoutMs,
  });
}

/** client-go's order: an exec plugin or auth provider; a tokenFile (it wins over token); a token; a user name and password. */
function credentialsFor(config: KubeConfig, tokenFile: string | undefined): CredentialSource {
  const user = config.getCurrentUser();
  if (user?.exec) return execCredentials(user.exec as ExecConfig);
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

function bytes<K extends string>(name: K, file: string | null | undefined, data: string | null | undefined): Partial<Record<K, Buffer>> {
  if (data) return { [name]: Buffer.from(data, 'base64') } as Record<K, Buffer>;
  if (file) return { [name]: readFileSync(file) } as Record<K, Buffer>;
  return {};
}
