// The renewal service's metrics text and health verdict (pure), and the --metrics-address forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InformerStats } from '../../src/cluster/informer.ts';
import { healthOf } from '../../src/service/health.ts';
import { renderMetrics, ServiceCounters } from '../../src/service/metrics.ts';
import { parseListenAddress } from '../../src/service/monitor.ts';

const NOW = 1_800_000_000_000;
const POLL = 10_000;
const informer = (kind: string, over: Partial<InformerStats> = {}): InformerStats => ({ kind, synced: true, lastListAt: NOW - 5000, lastEventAt: NOW - 1000, watchRestarts: 0, ...over });

test('health: starting until both informers listed; failing after three poll intervals without a list or watch event', () => {
  const table: Array<[string, InformerStats[], boolean, RegExp]> = [
    ['not started', [], false, /starting/],
    ['one not synced', [informer('certificatesigningrequests'), informer('nodes', { synced: false, lastListAt: 0, lastEventAt: 0 })], false, /starting: no successful list of nodes/],
    ['both fresh', [informer('certificatesigningrequests'), informer('nodes')], true, /^ok$/],
    ['list old, watch event fresh', [informer('certificatesigningrequests', { lastListAt: NOW - 10 * POLL }), informer('nodes')], true, /^ok$/],
    ['exactly three intervals', [informer('certificatesigningrequests', { lastListAt: NOW - 3 * POLL, lastEventAt: 0 }), informer('nodes')], true, /^ok$/],
    [
      'nothing for more than three intervals',
      [informer('certificatesigningrequests', { lastListAt: NOW - 3 * POLL - 1, lastEventAt: NOW - 40_000 }), informer('nodes')],
      false,
      /no successful list or watch event for more than 30 s: certificatesigningrequests \(30 s\)/,
    ],
  ];
  for (const [name, informers, ok, text] of table) {
    const verdict = healthOf(informers, NOW, POLL);
    assert.equal(verdict.ok, ok, name);
    assert.match(verdict.text, text, name);
  }
});

test('metrics: Prometheus text with approvals by phase, refusals by reason, pending, last list, restarts, process figures', () => {
  const counters = new ServiceCounters();
  counters.approved('client');
  counters.approved('serving');
  counters.approved('serving');
  counters.refused('san-of-other-node');
  counters.refused('node-not-listed');
  counters.refused('san-of-other-node');
  const text = renderMetrics({
    counters,
    pendingListedCsrs: 2,
    informers: [informer('certificatesigningrequests', { watchRestarts: 3, lastListAt: 1_700_000_000_500 }), informer('nodes')],
    rssBytes: 52_428_800,
    eventLoopDelayP99Seconds: 0.012,
    eventLoopDelayMaxSeconds: 0.04,
    startedAt: 1_700_000_000_900,
    healthy: true,
  });
  const lines = text.trimEnd().split('\n');
  for (const sample of [
    'openshift_finish_install_approvals_total{phase="client"} 1',
    'openshift_finish_install_approvals_total{phase="serving"} 2',
    'openshift_finish_install_refusals_total{reason="san-of-other-node"} 2',
    'openshift_finish_install_refusals_total{reason="node-not-listed"} 1',
    'openshift_finish_install_pending_csrs 2',
    'openshift_finish_install_last_list_success_timestamp_seconds{resource="certificatesigningrequests"} 1700000000.5',
    'openshift_finish_install_watch_restarts_total{resource="certificatesigningrequests"} 3',
    'openshift_finish_install_informer_synced{resource="nodes"} 1',
    'openshift_finish_install_healthy 1',
    'process_resident_memory_bytes 52428800',
    'process_start_time_seconds 1700000000',
    'nodejs_eventloop_lag_p99_seconds 0.012',
  ]) {
    assert.ok(lines.includes(sample), `${sample} in\n${text}`);
  }
  // Every sample belongs to a family declared just before it with HELP and TYPE.
  let family = '';
  for (const line of lines) {
    const declared = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (declared) family = declared[1]!;
    else if (!line.startsWith('# HELP ')) assert.equal(line.split(/[{ ]/)[0], family, line);
  }
  assert.ok(text.endsWith('\n'));
  assert.doesNotMatch(renderMetrics({ counters, pendingListedCsrs: undefined, informers: [], rssBytes: 1, eventLoopDelayP99Seconds: 0, eventLoopDelayMaxSeconds: 0, startedAt: 0, healthy: false }), /pending_csrs/, 'no gauge before the first list');
});

test('--metrics-address forms', () => {
  const table: Array<[string, { host: string; port: number } | undefined]> = [
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:9464', { host: 'localhost', port: 9464 }],
    [':9464', { host: '', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['9464', undefined],
    ['127.0.0.1', undefined],
    ['127.0.0.1:70000', undefined],
    ['::1:9464', undefined],
    ['[not-v6]:9464', undefined],
    ['http://127.0.0.1:9464', undefined],
  ];
  for (const [value, expected] of table) assert.deepEqual(parseListenAddress(value), expected, value);
});
