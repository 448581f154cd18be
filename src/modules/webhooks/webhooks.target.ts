import dns from 'node:dns';
import net, { BlockList } from 'node:net';

/**
 * Where a webhook may be sent. The host is resolved and every address it resolves to must be public: a webhook
 * must not become a way to reach the server's own network (loopback, private ranges, link-local, where cloud
 * metadata services answer, carrier-grade NAT, multicast, unspecified). The same check runs when the endpoint is
 * saved (a clear 400) and inside the connection's DNS lookup (see pinnedLookup), so a name that re-resolves to a
 * private address later (DNS rebinding) is refused at delivery too.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** True for an address a webhook must not reach (IPv4-mapped IPv6 is judged as the IPv4 address it carries). */
export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface TargetPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export class TargetRefused extends Error {}

/** Checks a URL's form (https unless allowed, no credentials); the addresses are checked by checkTargetAddress. */
export function checkTargetUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('Enter a valid URL.');
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    throw new TargetRefused(policy.allowHttp ? 'The URL must start with https:// or http://.' : 'The URL must start with https://.');
  }
  if (url.username || url.password) throw new TargetRefused('The URL must not contain a user name or password.');
  return url;
}

/** The URL's host as a bare name or address (IPv6 literals lose their brackets). */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Resolves the URL's host and refuses it when any of its addresses is not public (unless allowPrivate). */
export async function checkTargetAddress(url: URL, policy: TargetPolicy): Promise<void> {
  if (policy.allowPrivate) return;
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new TargetRefused(`The host ${host} could not be resolved.`);
  }
  if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
    throw new TargetRefused('The URL points at a loopback, private, link-local or otherwise internal address.');
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that refuses forbidden addresses: the connection goes to exactly the addresses
 * checked here, so there is no window between the check and the connect.
 */
export function pinnedLookup(policy: TargetPolicy) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!policy.allowPrivate && (addresses.length === 0 || addresses.some((a) => isForbiddenAddress(a.address)))) {
        const refused: NodeJS.ErrnoException = new TargetRefused(`${hostname} resolves to an internal address; refused.`);
        refused.code = 'EADDRNOTALLOWED';
        return callback(refused, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
