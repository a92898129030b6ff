// A real HTTP CONNECT proxy on loopback, as corporate networks put in front of an API server: it
// records every tunnel asked for, can demand credentials (Proxy-Authorization: Basic), can refuse
// (403), and maps names that resolve nowhere to a real address, as a proxy with its own DNS would.
// Also a plain TCP forwarder that listens on another address of this machine.
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';

export interface ConnectProxy {
  /** http://127.0.0.1:<port>, without credentials. */
  readonly url: string;
  readonly port: number;
  /** The authorities (host:port) of every CONNECT received, in order. */
  readonly tunnels: string[];
  /** Answer every later CONNECT with this status (undefined: tunnel again). */
  refuse(status: number | undefined): void;
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Where a tunnel to host:port really goes (default: host:port itself). */
  readonly map?: (host: string, port: number) => { host: string; port: number };
  /** Required Proxy-Authorization credentials (407 without them). */
  readonly credentials?: { readonly user: string; readonly password: string };
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  let refusal: number | undefined;
  const server = http.createServer((_req, res) => res.writeHead(400).end('CONNECT only\n'));
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const authority = req.url ?? '';
    tunnels.push(authority);
    sockets.add(client);
    client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
    const wanted = options.credentials && `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
    if (wanted && req.headers['proxy-authorization'] !== wanted) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (refusal !== undefined) {
      client.end(`HTTP/1.1 ${refusal} ${http.STATUS_CODES[refusal] ?? 'Refused'}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = (options.map ?? ((host, port) => ({ host, port })))(match[1]!, Number(match[2]));
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => {
      if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    refuse(status) {
      refusal = status;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A non-loopback IPv4 address of this machine, with its prefix length (undefined when there is none). */
export function outsideAddress(): { address: string; prefix: number } | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return { address: entry.address, prefix: Number(entry.cidr?.split('/')[1] ?? 32) };
    }
  }
  return undefined;
}

/** Forwards TCP from host:<returned port> to target (a second way in to the API server). */
export async function startForwarder(host: string, target: { host: string; port: number }): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy()).on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
