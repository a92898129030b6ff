// A loopback TCP proxy in front of the API server that a test can cut: every open connection is
// destroyed at once, as a load balancer restart or a flaky network would. TLS passes through.
import net from 'node:net';

export interface CuttableProxy {
  /** https://127.0.0.1:<proxy port> */
  readonly url: string;
  /** Destroys every open connection; returns how many. */
  cutAll(): number;
  /** Cuts every `everyMs` until the returned function is called. */
  cutEvery(everyMs: number): () => void;
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let cuts = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const proxy: CuttableProxy = {
    url: `https://127.0.0.1:${address.port}`,
    cutAll() {
      const open = sockets.size;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      cuts++;
      return open;
    },
    cutEvery(everyMs) {
      const timer = setInterval(() => proxy.cutAll(), everyMs);
      return () => clearInterval(timer);
    },
    get cuts() {
      return cuts;
    },
    async close() {
      proxy.cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** The same kubeconfig, pointed at another server URL (the proxy). */
export function withServer(kubeconfig: string, url: string): string {
  return kubeconfig.replace(/server: \S+/, `server: ${url}`);
}
