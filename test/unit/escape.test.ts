// Every medium's escape, fed the hostile corpus: text a CSR creator, a node or an operator chooses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bounded, chartText, logLine, markdownText, MAX_FIELD_CHARS, outputJson, terminalText } from '../../src/escape.ts';
import { renderGfm } from './markdown.ts';
import { commandsIn, holdsNoCommandStart, HOSTILE_TEXT, INVISIBLE } from '../env/runner-commands.ts';

const decode = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
const shortPrintable = (text: string) => /^[\x20-\x7e]*$/.test(text) && text.length <= MAX_FIELD_CHARS;

test('the runner-command reader finds each form (so the checks below can fail)', () => {
  assert.deepEqual(commandsIn('  ::add-mask::x').map((c) => c.name), ['add-mask']);
  assert.deepEqual(commandsIn('a ##[error title=t]data').map((c) => [c.form, c.name, c.data]), [['legacy', 'error', 'data']]);
  assert.deepEqual(commandsIn('a ##VSO[task.complete]x').map((c) => c.form), ['vso']);
  assert.equal(holdsNoCommandStart('#\u034f#['), false);
  assert.ok(INVISIBLE.test('\u202e'));
});

test('log lines: no command of any form, no invisible character, one bounded line', () => {
  for (const hostile of HOSTILE_TEXT) {
    for (const line of [hostile, `[approve] left Pending ${hostile} (node-not-listed)`, `  ${hostile}`]) {
      const out = logLine(line);
      assert.deepEqual(commandsIn(out), [], `${JSON.stringify(line.slice(0, 80))} -> ${out.slice(0, 120)}`);
      assert.ok(holdsNoCommandStart(out), out.slice(0, 120));
      assert.ok(!INVISIBLE.test(out), out.slice(0, 120));
      assert.ok(out.length < 4200, `bounded: ${out.length}`);
    }
  }
  assert.equal(logLine('approved csr-abc for worker-0 (fd00::1)'), 'approved csr-abc for worker-0 (fd00::1)', 'ordinary text unchanged');
  assert.equal(logLine('a\nb'), 'a\\u000ab');
});

test('CLI report fields: no command even at the start of an indented line, no terminal control', () => {
  for (const hostile of HOSTILE_TEXT) {
    const field = terminalText(hostile);
    const lines = [`  ${field}: message`, `  left Pending: ${field} (?, signer): node-not-listed`, `failure: ${field}`];
    for (const line of lines) assert.deepEqual(commandsIn(line), [], line.slice(0, 120));
    assert.ok(holdsNoCommandStart(field) && !INVISIBLE.test(field), field.slice(0, 120));
    assert.ok(field.length <= MAX_FIELD_CHARS * 12 + 40, `bounded: ${field.length}`);
    if (shortPrintable(hostile) && !hostile.includes('#') && !hostile.trimStart().startsWith(':')) assert.equal(field, hostile.replace(/\\/g, '\\\\'), 'printable text shown as it is (a backslash doubled)');
  }
});

test('summary fields: a table cell ends neither its row nor its table, and forms no markup', () => {
  for (const hostile of HOSTILE_TEXT) {
    const markdown = ['| CSR | Reason |', '| --- | --- |', `| ${markdownText(hostile)} | ${markdownText(hostile)} |`, '| after | row |', '', `**Blocked by:** ${markdownText(hostile)}`].join('\n');
    const html = renderGfm(markdown);
    const label = JSON.stringify(hostile.slice(0, 60));
    assert.equal([...html.matchAll(/<tr>/g)].length, 3, `${label}: header + 2 rows\n${html.slice(0, 400)}`);
    assert.equal([...html.matchAll(/<td>/g)].length, 4, `${label}: 2 cells a row`);
    assert.equal([...html.matchAll(/<p>/g)].length, 1, `${label}: one paragraph after the table`);
    assert.equal([...html.matchAll(/<strong>/g)].length, 1, `${label}: only our own emphasis`);
    assert.doesNotMatch(html, /<(a|img|h\d|details|em|code|del|blockquote|ul|ol|li|pre|br|hr|input)\b/, `${label}: no markup\n${html.slice(0, 400)}`);
    const cellText = decode(/<td>([\s\S]*?)<\/td>/.exec(html)![1]!);
    assert.ok(!INVISIBLE.test(cellText), label);
    if (shortPrintable(hostile)) assert.equal(cellText, hostile.trim().replace(/\\/g, '\\\\'), `${label}: printable text reads as it is (GFM trims a cell; a backslash doubled)`);
  }
});

test('chart fields: only letters, digits, a few marks and Mermaid entity codes', () => {
  for (const hostile of HOSTILE_TEXT) {
    const text = chartText(hostile);
    assert.match(text, /^[A-Za-z0-9 ._+()/,-]*(?:#\d+;[A-Za-z0-9 ._+()/,-]*)*$/, text.slice(0, 120));
    assert.ok(!INVISIBLE.test(text));
    assert.ok(text.length < 200 * 10, 'bounded');
  }
  assert.equal(chartText('worker-0.ocp.example.com'), 'worker-0.ocp.example.com');
  assert.equal(chartText('a:b;c#d%e\n`f'), 'a#58;b#59;c#35;d#37;e#92;u000a#96;f');
  assert.equal(chartText('\u202eabc'), '#92;u202eabc', 'a bidi override is shown, not applied');
});

test('outputs: the same value for a program, printable ASCII without # or a command for anything that prints it raw', () => {
  for (const hostile of HOSTILE_TEXT) {
    const value = [{ name: hostile, reason: 'node-not-listed' }];
    const json = outputJson(value);
    assert.deepEqual(JSON.parse(json), value, 'round-trips');
    assert.match(json, /^[\x20-\x22\x24-\x7e]*$/, json.slice(0, 120));
    assert.deepEqual(commandsIn(json), []);
  }
  assert.equal(outputJson({ a: 1 }, 2), '{\n  "a": 1\n}');
});

test('bounded cuts whole code points and says how much was left out', () => {
  assert.equal(bounded('abc', 5), 'abc');
  assert.equal(bounded('abcdefgh', 5), 'abcde…(3 more characters)');
  assert.equal(bounded('\u{1F600}'.repeat(6), 5), `${'\u{1F600}'.repeat(5)}…(1 more characters)`);
});
