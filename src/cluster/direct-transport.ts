import type { KubeConfig } from '@kubernetes/client-node';
import https from 'node:https';

/**
 * The approval PUT is the hot path of a burst (one per CSR). Through client-node it goes via
 * undici's fetch and the ObjectSerializer: measured at about 2.5 times the CPU of a plain https
 * request and some 20 ms more per call, which made approvals queue up behind each other in a
 * burst (BENCHMARKS.md). With static credentials and no proxy it is sent with node:https over a
 * keep-alive agent built from the same kubeconfig options instead; errors keep client-node's
 * ApiException shape (code, body, headers), so retries and wording are unchanged.
 */
export interface DirectTransport {
  agent: https.Agent;
  headers: Record<string, string>;
  auth: string | undefined;
  /** the server URL without a trailing slash (it may carry a path prefix) */
  base: string;
}

/** Resolves to undefined when the kubeconfig needs client-node's own transport. */
export function openDirectTransport(config: KubeConfig, staticCredentials: boolean): Promise<DirectTransport | undefined> {
  return (async () => {
    const cluster = config.getCurrentCluster();
    if (!staticCredentials || !cluster?.server.startsWith('https:') || cluster.proxyUrl) return undefined;
    const opts: https.RequestOptions = {};
    await config.applyToHTTPSOptions(opts);
    const agent = new https.Agent({
      keepAlive: true,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    });
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.headers ?? {})) if (value !== undefined) headers[key] = String(value);
    return { agent, headers, auth: opts.auth ?? undefined, base: cluster.server.replace(/\/+$/, '') };
  })().catch(() => undefined);
}

/** One JSON request over the direct transport; resolves to the parsed response body. */
export function sendJson(direct: DirectTransport, method: string, path: string, body: object, timeoutMs: number): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${direct.base}${path}`,
      {
        method,
        agent: direct.agent,
        auth: direct.auth,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          ...direct.headers,
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(payload),
          'User-Agent': 'openshift-finish-install',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) {
            try {
              return resolve(text ? JSON.parse(text) : undefined);
            } catch (error) {
              return reject(error);
            }
          }
          reject(Object.assign(new Error(`HTTP ${status}`), { code: status, body: text, headers: res.headers }));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
