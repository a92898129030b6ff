import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * Which proxy a request to the API server goes through, as `oc` and `kubectl` decide it: the
 * kubeconfig cluster's `proxy-url` when set (client-go then ignores the environment), otherwise
 * the environment read the way Go's golang.org/x/net/http/httpproxy reads it (FromEnvironment,
 * useProxy). Pure: the environment is a parameter.
 */
export interface ProxySettings {
  /** HTTPS_PROXY, else https_proxy (the first non-empty one, as getEnvAny). */
  readonly httpsProxy: string;
  /** HTTP_PROXY, else http_proxy (for an http:// server). */
  readonly httpProxy: string;
  /** NO_PROXY, else no_proxy. */
  readonly noProxy: string;
}

export function proxySettingsFromEnv(env: NodeJS.ProcessEnv): ProxySettings {
  const any = (...names: string[]) => names.map((n) => env[n] ?? '').find((v) => v !== '') ?? '';
  return { httpsProxy: any('HTTPS_PROXY', 'https_proxy'), httpProxy: any('HTTP_PROXY', 'http_proxy'), noProxy: any('NO_PROXY', 'no_proxy') };
}

export interface ProxyChoice {
  readonly url: URL;
  /** Where the choice came from, for messages. */
  readonly source: 'proxy-url' | 'HTTPS_PROXY' | 'HTTP_PROXY';
}

/** The proxy for `server`, or undefined to connect directly. Throws on a proxy URL that cannot be used. */
export function proxyFor(server: string, proxyUrl: string | undefined, settings: ProxySettings): ProxyChoice | undefined {
  if (proxyUrl) return { url: parseProxyUrl(proxyUrl, 'the kubeconfig proxy-url'), source: 'proxy-url' };
  const target = new URL(server);
  const secure = target.protocol === 'https:';
  const value = secure ? settings.httpsProxy : settings.httpProxy;
  if (!value) return undefined;
  const port = target.port || (secure ? '443' : '80');
  if (!useProxy(unbracket(target.hostname), port, settings.noProxy)) return undefined;
  return { url: parseProxyUrl(value, secure ? 'HTTPS_PROXY' : 'HTTP_PROXY'), source: secure ? 'HTTPS_PROXY' : 'HTTP_PROXY' };
}

/** A full URL, or host[:port] taken as http:// (httpproxy's parseProxy). */
export function parseProxyUrl(value: string, what: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:', 'socks5:'].includes(url.protocol)) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      throw new Error(`${what} ${maskProxyUrl(value)} is not a proxy URL (expected http://host:port or https://host:port)`);
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${what} ${maskProxyUrl(url.href)}: only http:// and https:// proxies are supported`);
  }
  // A user name or password with an unencoded / or @ parses as some other host and path (and
  // would then be printed): refuse it rather than guess.
  if ((value.includes('@') && !url.username) || (url.pathname !== '/' && url.pathname !== '')) {
    throw new Error(`${what} ${maskProxyUrl(value)} is not a proxy URL (expected http://host:port; percent-encode /, @ and : in the user name and password)`);
  }
  return url;
}

/**
 * False when NO_PROXY exempts host:port. Entries: `*`; an IP or CIDR; an IP, name or
 * `[IPv6]` with a port (then only that port); a name, which matches itself and its
 * subdomains; `.name` or `*.name`, which match subdomains only. `localhost` and loopback
 * addresses are never proxied. Malformed entries are ignored.
 */
export function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ip = isIP(host) ? canonicalIp(host) : undefined;
  if (ip && isLoopback(ip)) return false;
  const name = host.trim().toLowerCase();
  for (const entry of noProxy.split(',')) {
    const rule = parseEntry(entry);
    if (rule === undefined) continue;
    if (rule.kind === 'all') return false;
    if (rule.kind === 'cidr' && ip && rule.list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return false;
    if (rule.kind === 'ip' && ip && sameIp(rule.ip, ip) && (rule.port === '' || rule.port === port)) return false;
    if (rule.kind === 'domain' && (name.endsWith(rule.suffix) || (rule.matchHost && name === rule.suffix.slice(1))) && (rule.port === '' || rule.port === port)) {
      return false;
    }
  }
  return true;
}

type Rule =
  | { kind: 'all' }
  | { kind: 'cidr'; list: BlockList }
  | { kind: 'ip'; ip: string; port: string }
  | { kind: 'domain'; suffix: string; port: string; matchHost: boolean };

function parseEntry(raw: string): Rule | undefined {
  const entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  if (entry === '*') return { kind: 'all' };
  const cidr = parseCidr(entry);
  if (cidr) return { kind: 'cidr', list: cidr };
  let host = entry;
  let port = '';
  const split = splitHostPort(entry);
  if (split) {
    if (split.host === '') return undefined;
    ({ host, port } = split);
  }
  if (isIP(host)) return { kind: 'ip', ip: host, port };
  if (host.startsWith('*.')) host = host.slice(1);
  const matchHost = !host.startsWith('.');
  const bare = matchHost ? host : host.slice(1);
  // Server names reach us in ASCII (URL parsing applies IDNA); so do the entries, as httpproxy does.
  return { kind: 'domain', suffix: `.${domainToASCII(bare) || bare}`, port, matchHost };
}

/** net.SplitHostPort: `host:port` or `[host]:port`; undefined when there is no port part. */
function splitHostPort(entry: string): { host: string; port: string } | undefined {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const at = entry.lastIndexOf(':');
  if (at < 0 || entry.indexOf(':') !== at || entry.includes('[') || entry.includes(']')) return undefined;
  return { host: entry.slice(0, at), port: entry.slice(at + 1) };
}

function parseCidr(entry: string): BlockList | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (!match) return undefined;
  const family = isIP(match[1]!);
  const bits = Number(match[2]);
  if (!family || bits > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(match[1]!, bits, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

/** One spelling per address (IPv6 has many; an IPv4-mapped IPv6 address is its IPv4 address, as Go compares them). */
function canonicalIp(ip: string): string {
  if (isIP(ip) === 4) return ip;
  const hostname = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(hostname);
  if (!mapped) return hostname;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function isLoopback(ip: string): boolean {
  const canonical = canonicalIp(ip);
  return canonical === '::1' || (isIP(canonical) === 4 && canonical.startsWith('127.'));
}

function sameIp(a: string, b: string): boolean {
  return canonicalIp(a) === canonicalIp(b);
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** The proxy URL as logs may show it: everything before the last @ (user name and password) replaced by ***. */
export function maskProxyUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[\s\S]*@/i, '$1***@');
}

/** The values to mask in every log line: the proxy URL's password and user:password. */
export function proxySecrets(value: string): string[] {
  // From the text itself, not from what a URL parser made of it: everything before the last @.
  const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([\s\S]*)@/i.exec(value)?.[1];
  if (!userinfo) return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const colon = userinfo.indexOf(':');
  const password = colon >= 0 ? userinfo.slice(colon + 1) : '';
  const secrets = password ? [userinfo, decode(userinfo), password, decode(password), value] : [value];
  return [...new Set(secrets)].filter((s) => s.length >= 4);
}
