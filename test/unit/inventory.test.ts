// Issue 24: the inventory read from the files a pipeline already has. The two OpenShift samples
// below are written for these tests in the shape of the OpenShift documentation's own:
// nodes-config.yaml of "Adding worker nodes to an on-premise cluster" (oc adm node-image create,
// 4.17+) and agent-config.yaml of the agent-based installer, with nmstate networkConfig.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseInventory, readInventory } from '../../src/settings/inventory.ts';
import { InputError, parseNodes, parseSettings } from '../../src/settings/settings.ts';
import type { InputName } from '../../src/settings/inputs.ts';

/** Day 2: three workers for a running cluster; one static IPv4, one dual stack on a bond, one on DHCP. */
const NODES_CONFIG = `hosts:
  - hostname: extra-worker-1
    rootDeviceHints:
      deviceName: /dev/sda
    interfaces:
      - macAddress: 00:00:5e:00:53:01
        name: eth0
    networkConfig:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          mac-address: 00:00:5e:00:53:01
          ipv4:
            enabled: true
            address:
              - ip: 192.168.122.2
                prefix-length: 23
            dhcp: false
  - hostname: Extra-Worker-2
    interfaces:
      - macAddress: 00:00:5e:00:53:02
        name: eno1
      - macAddress: 00:00:5e:00:53:03
        name: eno2
    networkConfig:
      interfaces:
        - name: eno1
          type: ethernet
          state: up
          mac-address: 00:00:5e:00:53:02
        - name: eno2
          type: ethernet
          state: up
          mac-address: 00:00:5e:00:53:03
        - name: bond0
          type: bond
          state: up
          link-aggregation:
            mode: active-backup
            port:
              - eno1
              - eno2
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 192.168.122.3
                prefix-length: 23
          ipv6:
            enabled: true
            dhcp: false
            autoconf: false
            address:
              - ip: 2001:db8:122::3
                prefix-length: 64
        - name: eno3
          type: ethernet
          state: down
          ipv4:
            enabled: true
            address:
              - ip: 10.99.0.3
                prefix-length: 24
      dns-resolver:
        config:
          server:
            - 192.168.122.1
      routes:
        config:
          - destination: 0.0.0.0/0
            next-hop-address: 192.168.122.1
            next-hop-interface: bond0
            table-id: 254
  - hostname: extra-worker-3
    interfaces:
      - macAddress: 00:00:5e:00:53:04
        name: eth0
    networkConfig:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          mac-address: 00:00:5e:00:53:04
          ipv4:
            enabled: true
            dhcp: true
`;

/** The agent-based installer: three control plane hosts with static addresses, one worker without networkConfig. */
const AGENT_CONFIG = `apiVersion: v1beta1
kind: AgentConfig
metadata:
  name: ocp
rendezvousIP: 192.168.111.80
hosts:
  - hostname: master-0
    role: master
    interfaces:
      - name: eno1
        macAddress: 00:ef:44:21:e6:a5
    rootDeviceHints:
      deviceName: /dev/sdb
    networkConfig:
      interfaces:
        - name: eno1
          type: ethernet
          state: up
          mac-address: 00:ef:44:21:e6:a5
          ipv4:
            enabled: true
            address:
              - ip: 192.168.111.80
                prefix-length: 23
            dhcp: false
          ipv6:
            enabled: false
      dns-resolver:
        config:
          server:
            - 192.168.111.1
      routes:
        config:
          - destination: 0.0.0.0/0
            next-hop-address: 192.168.111.2
            next-hop-interface: eno1
            table-id: 254
  - hostname: master-1
    role: master
    interfaces:
      - name: eno1
        macAddress: 00:ef:44:21:e6:a6
    networkConfig:
      interfaces:
        - name: eno1.100
          type: vlan
          state: up
          vlan:
            base-iface: eno1
            id: 100
          ipv4:
            enabled: true
            address:
              - ip: 192.168.111.81
                prefix-length: 23
            dhcp: false
  - hostname: worker-0
    role: worker
    interfaces:
      - name: eno1
        macAddress: 00:ef:44:21:e6:b0
`;

const dir = mkdtempSync(join(tmpdir(), 'ofi-inventory-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const summary = (nodes: ReturnType<typeof parseNodes>) => nodes.map((n) => [n.name, ...n.ips, ...n.dnsNames].join(' '));

test('inventory: nodes-config.yaml gives each hostname with its static addresses; a DHCP host by name only', () => {
  assert.deepEqual(summary(parseInventory(NODES_CONFIG, 'nodes-config.yaml', 'inventory')), [
    'extra-worker-1 192.168.122.2',
    // lower-cased as the kubelet names its Node; the bond's addresses, not the down interface's
    'extra-worker-2 192.168.122.3 2001:db8:122:0:0:0:0:3',
    'extra-worker-3',
  ]);
});

test('inventory: agent-config.yaml gives every host, a disabled stack and a host without networkConfig add nothing', () => {
  assert.deepEqual(summary(parseInventory(AGENT_CONFIG, 'agent-config.yaml', 'inventory')), ['master-0 192.168.111.80', 'master-1 192.168.111.81', 'worker-0']);
});

test('inventory: a host with a static IPv4 and IPv6 autoconf is listed by name only (the SLAAC address was never written down)', () => {
  const text = `hosts:
  - hostname: w-0
    networkConfig:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          ipv4: { enabled: true, dhcp: false, address: [{ ip: 10.0.0.5, prefix-length: 24 }] }
          ipv6: { enabled: true, dhcp: false, autoconf: true }
`;
  assert.deepEqual(summary(parseInventory(text, 'nodes-config.yaml', 'inventory')), ['w-0']);
});

test('inventory: a YAML list and a JSON list of {name, addresses}', () => {
  const yaml = '# written by the provisioning playbook\n- name: worker-0\n  addresses: [10.0.1.20, worker-0.ocp.example.com]\n- name: worker-1\n  addresses: []\n- name: worker-2\n';
  assert.deepEqual(summary(parseInventory(yaml, 'workers.yaml', 'inventory')), ['worker-0 10.0.1.20 worker-0.ocp.example.com', 'worker-1', 'worker-2']);
  const json = JSON.stringify([{ name: 'worker-0', addresses: ['10.0.1.20', 'FD00::20'] }, { name: 'worker-1' }], null, 2);
  assert.deepEqual(summary(parseInventory(json, 'workers.json', 'inventory')), ['worker-0 10.0.1.20 fd00:0:0:0:0:0:0:20', 'worker-1']);
});

test('inventory: lines are read as the nodes input reads them, even where they would be YAML', () => {
  // `fd00:20::` ends in a colon: as YAML the line would be a mapping key.
  assert.deepEqual(summary(parseInventory('worker-0 fd00:20::\nworker-1, worker-2 10.0.1.22 # late\n', 'nodes.txt', 'inventory')), [
    'worker-0 fd00:20:0:0:0:0:0:0',
    'worker-1',
    'worker-2 10.0.1.22',
  ]);
  assert.deepEqual(parseInventory('# nothing yet\n', 'nodes.txt', 'inventory'), []);
});

/** The InputError a text gives, for the checks below. */
function refusal(text: string, name = 'inv.yaml'): InputError {
  try {
    parseInventory(text, name, 'inventory');
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error;
  }
  assert.fail(`${JSON.stringify(text)} was taken`);
}

test('inventory: a file of none of the forms is refused naming the file and the forms', () => {
  const installConfig = refusal('apiVersion: v1\nbaseDomain: example.com\nnetworking:\n  machineNetwork:\n  - cidr: 10.0.0.0/16\n', 'install-config.yaml');
  assert.equal(installConfig.input, 'inventory');
  assert.match(installConfig.message, /^Input 'inventory': install-config\.yaml is a YAML mapping without a hosts list \(keys: apiVersion, baseDomain, networking\)/);
  assert.match(installConfig.message, /Accepted: lines as in the nodes input; an OpenShift nodes-config\.yaml .* or agent-config\.yaml .*; or a YAML or JSON list of \{name, addresses\}\.$/);
  const broken = refusal('hosts:\n  - hostname: w-0\n   bad: indent\n', 'nodes-config.yaml');
  assert.match(broken.message, /nodes-config\.yaml is no inventory: not lines \(.*\) and not YAML or JSON \(.+\)\. Accepted: lines as in the nodes input/);
  const binary = refusal('\u0000\u0001\u0002 PK zip', 'workers.zip');
  assert.match(binary.message, /workers\.zip/);
  // A YAML scalar is no list: the lines reading says what is wrong.
  assert.match(refusal('"worker 0"\n').message, /^Input 'inventory': inv\.yaml: '"worker' is not a valid node name/);
});

test('inventory: a misshapen entry is named with its place', () => {
  assert.match(refusal('hosts:\n  - role: worker\n').message, /inv\.yaml: hosts\[0\]: has no hostname/);
  assert.match(refusal('hosts:\n  - hostname: w-0\n    networkConfig:\n      interfaces:\n        - name: eth0\n          ipv4: { enabled: true, address: [{ prefix-length: 24 }] }\n').message, /hosts\[0\]: w-0: networkConfig\.interfaces\[0\] \(eth0\) ipv4\.address\[0\] has no ip/);
  assert.match(refusal('- name: w-0\n  adresses: [10.0.0.5]\n').message, /inv\.yaml: entry 1 has 'adresses': only name and addresses are read/);
  assert.match(refusal('- name: w-0\n- w-1\n').message, /entry 2 is not a mapping/);
  assert.match(refusal('- name: w-0\n  addresses: 10.0.0.5\n').message, /entry 1 \(w-0\): addresses is not a list/);
  assert.match(refusal('- name: w-0\n- name: w-0\n').message, /inv\.yaml: node 'w-0' is listed twice/);
  assert.match(refusal('- name: w-0\n  addresses: [10.0.0.5]\n- name: w-1\n  addresses: [10.0.0.5]\n').message, /address '10\.0\.0\.5' is declared for both 'w-0' and 'w-1'/);
  assert.match(refusal('- name: W_0\n').message, /'W_0' is not a valid node name/);
});

test('declared addresses a certificate may never carry are input errors naming the machine and the address, in every form', () => {
  const kinds: Array<[string, string]> = [
    ['127.0.0.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.251', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::10.0.0.5', 'an IPv4-mapped or IPv4-compatible IPv6 address'],
  ];
  for (const [address, words] of kinds) {
    const expected = new RegExp(`'${address.replace(/\./g, '\\.')}' \\(for node 'worker-0'\\) is ${words}, which no serving certificate may carry`);
    assert.throws(() => parseNodes(`worker-0 10.0.0.10 ${address}`), (e: unknown) => e instanceof InputError && e.input === 'nodes' && expected.test(e.message), `nodes: ${address}`);
    assert.match(refusal(`- name: worker-0\n  addresses: ['${address}']\n`).message, expected, `list: ${address}`);
  }
  const hostWithLoopback = `hosts:\n  - hostname: worker-0\n    networkConfig:\n      interfaces:\n        - name: lo\n          type: loopback\n          ipv4: { enabled: true, address: [{ ip: 127.0.0.1, prefix-length: 8 }] }\n`;
  assert.match(refusal(hostWithLoopback, 'nodes-config.yaml').message, /^Input 'inventory': nodes-config\.yaml: '127\.0\.0\.1' \(for node 'worker-0'\) is a loopback address/);
  // An IPv4-mapped spelling of an ordinary address is that address.
  assert.deepEqual(summary(parseNodes('worker-0 ::ffff:10.0.0.5')), ['worker-0 10.0.0.5']);
});

test('declared localhost names and addresses with an IPv6 zone are input errors naming the machine', () => {
  for (const name of ['localhost', 'LOCALHOST.', 'api.localhost', 'localhost.localdomain']) {
    assert.throws(() => parseNodes(`worker-0 10.0.0.10 ${name}`), /\(for node 'worker-0'\) names this host \(localhost\), which no serving certificate may carry/, name);
  }
  assert.deepEqual(summary(parseNodes('worker-0 localhost-7.example.com')), ['worker-0 localhost-7.example.com'], 'a name that only starts with localhost is a name');
  for (const zoned of ['fd00::5%eth0', 'fe80::1%2']) {
    assert.throws(() => parseNodes(`worker-0 ${zoned}`), /'fd00::5%eth0' \(for node 'worker-0'\) is neither an IP address nor a DNS name|'fe80::1%2' \(for node 'worker-0'\) is neither an IP address nor a DNS name/, zoned);
  }
});

test('inventory: an nmstate flag that is not true or false is refused, not guessed (yes/on are true to the installer)', () => {
  for (const value of ['yes', 'on', '"true"', '1']) {
    const text = `hosts:\n  - hostname: w-0\n    networkConfig:\n      interfaces:\n        - name: eth0\n          ipv4: { enabled: true, dhcp: ${value}, address: [{ ip: 10.0.0.5, prefix-length: 24 }] }\n`;
    assert.match(refusal(text, 'nodes-config.yaml').message, /hosts\[0\]: w-0: networkConfig\.interfaces\[0\] \(eth0\) ipv4\.dhcp is .+, not true or false/, value);
  }
});

test('inventory: a file of one word that is no machine (a token given by mistake) is refused without quoting it', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl';
  const message = refusal(`${token}\n`, 'token').message;
  assert.match(message, /^Input 'inventory': token is no inventory: one line that is not a machine/);
  assert.ok(!message.includes(token.slice(0, 12)), message);
});

const settingsFrom = (inputs: Partial<Record<InputName, string>>) => parseSettings((name) => inputs[name] ?? '');

test('settings: the inventory input reads the file; with nodes too it is refused; a missing file names itself', () => {
  const path = file('nodes-config.yaml', NODES_CONFIG);
  const s = settingsFrom({ inventory: path });
  assert.equal(s.inventory, path);
  assert.deepEqual(s.nodes.map((n) => n.name), ['extra-worker-1', 'extra-worker-2', 'extra-worker-3']);
  assert.throws(() => settingsFrom({ inventory: path, nodes: 'worker-0' }), /^InputError: Input 'inventory': is set and so is nodes\. Accepted: one of them/);
  assert.throws(() => readInventory(join(dir, 'missing.yaml'), 'inventory'), /Input 'inventory': cannot read .*missing\.yaml: ENOENT\. Accepted: a readable file: lines as in the nodes input/);
});

test('settings: machine-networks and max-requested-duration', () => {
  const s = settingsFrom({ 'machine-networks': '10.0.0.5/16, fd00:10::/64\n10.0.0.0/16 # twice', 'max-requested-duration': '720h' });
  assert.deepEqual(s.machineNetworks.map((c) => c.text), ['10.0.0.0/16', 'fd00:10:0:0:0:0:0:0/64']);
  assert.equal(s.maxRequestedSeconds, 2_592_000);
  assert.equal(settingsFrom({}).maxRequestedSeconds, undefined);
  assert.deepEqual(settingsFrom({}).machineNetworks, []);
  for (const [input, value, message] of [
    ['machine-networks', '10.0.0.0', /'10\.0\.0\.0' is not a CIDR\. Accepted: CIDRs such as 10\.0\.0\.0\/16/],
    ['machine-networks', '10.0.0.0/33', /is not a CIDR/],
    ['machine-networks', '0.0.0.0/0', /'0\.0\.0\.0\/0' bounds nothing/],
    ['max-requested-duration', '30d', /'30d' is not a duration/],
    ['max-requested-duration', '0s', /must be greater than zero/],
  ] as const) {
    assert.throws(() => settingsFrom({ [input]: value }), (e: unknown) => e instanceof InputError && e.input === input && message.test(e.message), `${input}: ${value}`);
  }
});
