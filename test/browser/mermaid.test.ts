// The job summary's gantt chart through the real Mermaid (the npm package) in headless Chromium:
// it parses and renders, shows one row per listed node plus the registry and the operators, and
// cluster-supplied names cannot break out of it. OFI_MERMAID_SCREENSHOT=/tmp/chart.png saves a
// picture of the realistic chart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { newReport, type RunReport } from '../../src/report/report.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { launchChromium } from './chromium.ts';

const MERMAID = new URL('../../node_modules/mermaid/dist/mermaid.min.js', import.meta.url).pathname;
let browser: BrowserContext;
let page: Page;
before(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body style="margin:16px;background:#fff"><div id="chart"></div></body></html>');
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() => (window as unknown as { mermaid: { initialize(c: object): void } }).mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));
});
after(async () => {
  await browser?.close();
});

interface Rendered {
  error?: string;
  sections: string[];
  tasks: string[];
  bars: number;
  links: number;
  svg: string;
}

/** mermaid.parse, then mermaid.render into the page; a syntax error comes back as `error`. */
async function render(code: string): Promise<Rendered> {
  return page.evaluate(async (source) => {
    const mermaid = (window as unknown as { mermaid: { parse(t: string): Promise<unknown>; render(id: string, t: string): Promise<{ svg: string }> } }).mermaid;
    const chart = document.getElementById('chart')!;
    chart.innerHTML = '';
    try {
      await mermaid.parse(source);
      const { svg } = await mermaid.render(`g${Date.now()}`, source);
      chart.innerHTML = svg;
    } catch (error) {
      return { error: String((error as Error).message ?? error), sections: [], tasks: [], bars: 0, links: 0, svg: '' };
    }
    const texts = (selector: string) => [...chart.querySelectorAll(selector)].map((e) => e.textContent ?? '');
    return { sections: texts('text.sectionTitle'), tasks: texts('text.taskText, text.taskTextOutsideRight, text.taskTextOutsideLeft'), bars: chart.querySelectorAll('rect.task').length, links: chart.querySelectorAll('a, [onclick]').length, svg: chart.innerHTML };
  }, code);
}

/** The one mermaid block of a summary, between its fences. */
function chartOf(summary: string): string {
  const blocks = [...summary.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, 'one mermaid block');
  assert.equal((summary.match(/^```/gm) ?? []).length, 2, 'no other fence: the chart closes where it should');
  return blocks[0]![1]!;
}

/** A run like a demo install: three workers joining, one of them late, the registry, the operators. */
function demoReport(names = ['worker-0', 'worker-1', 'worker-2']): RunReport {
  const start = Date.UTC(2026, 11, 1, 14, 3, 10);
  const report = newReport(start, false);
  const s = (seconds: number) => start + seconds * 1000;
  const times = [
    [12.4, 31.8, 29.5],
    [14.1, 36.2, 33.0],
    [95.3, 121.7, 118.9],
  ];
  names.forEach((name, i) => {
    const [client, serving, ready] = times[i % 3]!.map((t) => t + Math.floor(i / 3) * 7);
    report.nodes.push({ name, clientApproved: true, servingIssued: true, ready: true } as RunReport['nodes'][number]);
    report.timeline.push(
      { at: s(client!), node: name, event: 'client approved' },
      { at: s(client! + 9), node: name, event: 'registered' },
      { at: s(serving! - 0.6), node: name, event: 'serving approved' },
      { at: s(serving!), node: name, event: 'serving issued' },
      { at: s(ready!), node: name, event: 'ready' },
    );
  });
  report.registry = { managementState: 'Managed', storage: 'pvc', claim: 'image-registry-storage', rolloutStrategy: 'Recreate', replicas: 1, ready: true, changed: true };
  report.timeline.push({ at: s(164.2), event: 'registry ready' }, { at: s(612.9), event: 'operators stable' });
  report.timeline.sort((a, b) => a.at - b.at);
  report.operatorCounts = { stable: 34, total: 34 };
  report.operatorsStable = true;
  report.nodesReady = true;
  report.result = 'success';
  report.finishedAt = s(613.0);
  return report;
}

test('the summary chart parses and renders: a row per node, the registry, the operators', { timeout: 60_000 }, async () => {
  const summary = renderSummary(demoReport());
  const rendered = await render(chartOf(summary));
  assert.equal(rendered.error, undefined, rendered.error);
  assert.deepEqual(rendered.sections, ['worker-0', 'worker-1', 'worker-2', 'image registry', 'ClusterOperators']);
  assert.equal(rendered.bars, 3 * 3 + 2, 'client approved, serving issued and Ready for each node; registry; operators');
  const words = rendered.tasks.filter((t) => t !== '\u200b');
  assert.deepEqual(words, [
    'client approved +12.4s, Ready +29.5s, serving issued +31.8s',
    'client approved +14.1s, Ready +33.0s, serving issued +36.2s',
    'client approved +1m35.3s, Ready +1m58.9s, serving issued +2m01.7s',
    'ready +2m44.2s',
    'stable +10m12.9s',
  ]);
  if (process.env.OFI_MERMAID_SCREENSHOT) await page.locator('#chart svg').screenshot({ path: process.env.OFI_MERMAID_SCREENSHOT });
});

test('a failed run draws the open waits', { timeout: 60_000 }, async () => {
  const report = demoReport();
  report.nodes[2] = { ...report.nodes[2]!, servingIssued: false, ready: false };
  report.timeline = report.timeline.filter((t) => !(t.node === 'worker-2' && t.event !== 'client approved') && t.event !== 'operators stable');
  report.result = 'timeout';
  const rendered = await render(chartOf(renderSummary(report)));
  assert.equal(rendered.error, undefined, rendered.error);
  assert.ok(rendered.tasks.includes('client approved +1m35.3s, waiting for serving certificate, Ready'), rendered.tasks.join(' | '));
  assert.ok(rendered.tasks.includes('waiting for stable operators'), rendered.tasks.join(' | '));
});

test('cluster-supplied names stay text inside the chart', { timeout: 60_000 }, async () => {
  const hostile = [
    'evil: x ; y # z %% c',
    'a\n    click t0 href "javascript:alert(1)"',
    '%%{init: {"securityLevel": "loose"}}%%',
    'x\n```\n<img src=x onerror=alert(1)>',
    'section injected',
    '#58; #quot; &amp; ünïcødé',
  ];
  const summary = renderSummary(demoReport(hostile));
  const rendered = await render(chartOf(summary));
  assert.equal(rendered.error, undefined, rendered.error);
  assert.equal(rendered.links, 0, 'no link or handler injected');
  assert.ok(!rendered.svg.includes('<img'), 'no element injected');
  assert.equal(rendered.bars, hostile.length * 3 + 2, 'no task injected or lost');
  // Each name shows as written, on one line, a line break shown as \u000a (src/escape.ts chartText).
  assert.deepEqual(rendered.sections.slice(0, hostile.length), hostile.map((n) => n.replace(/\n/g, '\\u000a')));
});

test('the check fails on a Mermaid syntax error and on unescaped names', { timeout: 60_000 }, async () => {
  const broken = await render('gantt\n  dateFormat x\n  section a\n  task one :t0, 1764597790000, 100ms\n  click\n');
  assert.match(broken.error ?? '', /Parse error|error/i);
  const chart = chartOf(renderSummary(demoReport(['w0'])));
  const unescaped = await render(chart.replace('section w0', 'section w0\n    x :t99, bogus, "'));
  assert.ok(unescaped.error !== undefined || unescaped.bars !== 5, 'an injected task line changes the chart');
});

test('a thousand nodes: the chart shows the slowest and stays under Mermaid\'s size limit', { timeout: 60_000 }, async () => {
  const names = Array.from({ length: 1000 }, (_, i) => `worker-${String(i).padStart(4, '0')}.ocp4.lab.example.com`);
  const summary = renderSummary(demoReport(names));
  const chart = chartOf(summary);
  assert.ok(chart.length < 50_000, `${chart.length} characters`);
  const rendered = await render(chart);
  assert.equal(rendered.error, undefined, rendered.error);
  assert.equal(rendered.sections.length, 60 + 2);
  assert.ok(rendered.sections.includes('worker-0998.ocp4.lab.example.com'), 'the slowest nodes are drawn');
});
