// Issue 24: the bounds of a machine listed without addresses, from what the cluster says of its
// networks (src/identity/networks.ts over src/net/cidr.ts). The decisions themselves are rows of
// test/unit/policy.test.ts; the reads, test/integration/cluster-networks.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundBreach, boundsOf, describeBounds } from '../../src/identity/networks.ts';
import { cidrContains, parseCidr } from '../../src/net/cidr.ts';

test('cidr: host bits cleared, both families, spellings canonical; anything else refused', () => {
  assert.equal(parseCidr('10.0.0.5/16')?.text, '10.0.0.0/16');
  assert.equal(parseCidr(' 192.168.122.0/23 ')?.text, '192.168.122.0/23');
  assert.equal(parseCidr('FD00:10::1/64')?.text, 'fd00:10:0:0:0:0:0:0/64');
  assert.equal(parseCidr('10.0.0.1/32')?.text, '10.0.0.1/32');
  for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'x/8', '10.0.0.0/-1', '10.0.0.0/ 8', '']) assert.equal(parseCidr(bad), undefined, bad);
  const net = parseCidr('10.0.0.0/23')!;
  assert.ok(cidrContains(net, '10.0.1.255'));
  assert.ok(!cidrContains(net, '10.0.2.0'));
  assert.ok(!cidrContains(net, '::ffff:10.0.0.1'), 'a 16-byte address is not in an IPv4 network');
  assert.ok(cidrContains(parseCidr('fd00::/8')!, 'FD12:3::4'));
  assert.ok(!cidrContains(parseCidr('fd00::/8')!, '10.0.0.1'));
  assert.ok(cidrContains(parseCidr('10.0.0.1/32')!, '10.0.0.1'));
});

test('bounds: the cluster machine networks from the Infrastructure object and the install-config, the input replaces them', () => {
  const facts = {
    network: { serviceNetworks: ['172.30.0.0/16', 'not-a-cidr'], clusterNetworks: ['10.128.0.0/14'] },
    infrastructure: { machineNetworks: ['192.168.111.0/24'], vips: ['192.168.111.5', '192.168.111.6', 'nonsense'] },
    installConfig: { machineNetworks: ['192.168.111.0/24', '10.0.0.0/16'] },
  };
  const cluster = boundsOf(facts, []);
  assert.deepEqual(cluster.machineNetworks.map((c) => c.text), ['192.168.111.0/24', '10.0.0.0/16']);
  assert.equal(cluster.machineNetworksFrom, 'Infrastructure cluster and the install-config in kube-system/cluster-config-v1');
  assert.deepEqual(cluster.serviceNetworks.map((c) => c.text), ['172.30.0.0/16'], 'an entry that is no CIDR is skipped');
  assert.deepEqual(cluster.vips, ['192.168.111.5', '192.168.111.6']);
  assert.equal(
    describeBounds(cluster),
    'within the machine networks 192.168.111.0/24, 10.0.0.0/16 (from Infrastructure cluster and the install-config in kube-system/cluster-config-v1), never in the service network (172.30.0.0/16) or the cluster network (10.128.0.0/14), nor a VIP (192.168.111.5, 192.168.111.6)',
  );
  const input = boundsOf(facts, [parseCidr('10.20.0.0/16')!]);
  assert.deepEqual(input.machineNetworks.map((c) => c.text), ['10.20.0.0/16']);
  assert.equal(input.machineNetworksFrom, 'input machine-networks');
  assert.deepEqual(input.vips, cluster.vips, 'the input replaces the machine networks only');
});

test('bounds: sources absent or refused add nothing; without a machine network only the exclusions hold', () => {
  const none = boundsOf({ network: 'absent', infrastructure: 'forbidden', installConfig: 'absent' }, []);
  assert.deepEqual([none.machineNetworks, none.serviceNetworks, none.clusterNetworks, none.vips], [[], [], [], []]);
  assert.match(describeBounds(none), /^in any network \(no machine network found\), never in the service network \(none found\)/);
  assert.equal(boundBreach('192.168.1.1', none), undefined);
  const platformNone = boundsOf({ network: { serviceNetworks: ['172.30.0.0/16'], clusterNetworks: [] }, infrastructure: { machineNetworks: [], vips: [] } }, []);
  assert.equal(boundBreach('8.8.8.8', platformNone), undefined);
  assert.deepEqual(boundBreach('172.30.0.1', platformNone), ['san-service-network', '172.30.0.1 lies in the service network 172.30.0.0/16']);
});

test('bounds: the VIP first, then the service and cluster networks, then the machine networks', () => {
  const bounds = boundsOf(
    { network: { serviceNetworks: ['10.0.0.0/24'], clusterNetworks: ['10.0.0.0/16'] }, infrastructure: { machineNetworks: ['10.0.0.0/8'], vips: ['10.0.0.5'] } },
    [],
  );
  assert.equal(boundBreach('10.0.0.5', bounds)?.[0], 'san-cluster-vip');
  assert.equal(boundBreach('10.0.0.6', bounds)?.[0], 'san-service-network');
  assert.equal(boundBreach('10.0.1.6', bounds)?.[0], 'san-cluster-network');
  assert.equal(boundBreach('10.1.0.6', bounds), undefined);
  assert.deepEqual(boundBreach('11.0.0.1', bounds), ['san-outside-machine-network', '11.0.0.1 lies in no machine network (10.0.0.0/8, from Infrastructure cluster)']);
});

test('cidr: an IPv4-mapped IPv6 network is the IPv4 network it maps; a zone or a mapped network shorter than /96 is refused', () => {
  assert.equal(parseCidr('::ffff:10.0.0.0/104')?.text, '10.0.0.0/8');
  assert.ok(cidrContains(parseCidr('::ffff:172.30.0.0/112')!, '172.30.4.1'), 'a mapped service network excludes the IPv4 addresses it maps');
  for (const bad of ['::ffff:10.0.0.0/90', 'fd00::%eth0/64', 'fe80::1%2/128']) assert.equal(parseCidr(bad), undefined, bad);
  assert.ok(!cidrContains(parseCidr('fd00::/8')!, 'fd00::5%eth0'), 'an address with a zone lies in no network');
});

test('bounds: a machine network of prefix 0 from the cluster bounds nothing and counts as none found', () => {
  const bounds = boundsOf({ network: 'absent', infrastructure: { machineNetworks: ['0.0.0.0/0', '::/0'], vips: [] }, installConfig: { machineNetworks: ['0.0.0.0/0'] } }, []);
  assert.deepEqual(bounds.machineNetworks, []);
  assert.match(describeBounds(bounds), /^in any network \(no machine network found\)/);
  const mixed = boundsOf({ network: 'absent', infrastructure: { machineNetworks: ['0.0.0.0/0', '192.168.111.0/24'], vips: [] } }, []);
  assert.deepEqual(mixed.machineNetworks.map((c) => c.text), ['192.168.111.0/24']);
  assert.equal(boundBreach('8.8.8.8', mixed)?.[0], 'san-outside-machine-network');
});
