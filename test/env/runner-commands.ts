// The workflow commands a CI log reader would take from a line, read the way each reader does
// (DOMAIN.md section 9): the GitHub runner's `::name props::data` at the start of the trimmed
// line, its legacy `##[name props]data` anywhere in the line, and Azure Pipelines' `##vso[...]`
// anywhere (case-insensitive). Used by the tests that feed hostile cluster text to the action.

export interface ParsedCommand {
  readonly form: 'v2' | 'legacy' | 'vso';
  readonly name: string;
  readonly data: string;
}

/** Every command the readers would find in one line (a line holds no `\n`). */
export function commandsIn(line: string): ParsedCommand[] {
  const found: ParsedCommand[] = [];
  const trimmed = line.replace(/^\s+/, '');
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2);
    if (end > 2) found.push({ form: 'v2', name: trimmed.slice(2, end).split(' ')[0]!, data: trimmed.slice(end + 2) });
  }
  for (let at = line.indexOf('##['); at >= 0; at = line.indexOf('##[', at + 1)) {
    const close = line.indexOf(']', at);
    if (close < 0) break;
    found.push({ form: 'legacy', name: line.slice(at + 3, close).split(' ')[0]!, data: line.slice(close + 1) });
  }
  const lower = line.toLowerCase();
  for (let at = lower.indexOf('##vso['); at >= 0; at = lower.indexOf('##vso[', at + 1)) {
    const close = line.indexOf(']', at);
    if (close < 0) break;
    found.push({ form: 'vso', name: line.slice(at + 6, close).split(' ')[0]!, data: line.slice(close + 1) });
  }
  return found;
}

/**
 * Text from which no reader could take a command, whatever our own text around it: no `##`, no
 * `#` before a non-ASCII character (a culture-aware search may skip it as ignorable), and no
 * `:` or non-ASCII character first on the trimmed text.
 */
export function holdsNoCommandStart(text: string): boolean {
  return !/#[#\u0080-\uffff]/.test(text) && !/^\s*(?::|[^\s\x20-\x7f])/u.test(text);
}

/** Characters no reader should receive as themselves: controls, format characters, separators, lone surrogates. */
export const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|\p{Cs}/u;

/**
 * Names a CSR creator can choose (the API refuses only `/` and `%` in a name) and text a node or
 * an operator can write: each line a way to reach a runner, a terminal or a Markdown page.
 */
export const HOSTILE_TEXT: readonly string[] = [
  'node-csr-a ##[error title=Cluster compromised]Rotate every credential at https://evil.example',
  'x ##[group]folded', 'x ##[endgroup]', 'x ##[stop-commands]token', 'x ##[add-mask]worker-0', 'x ###[error]three',
  'x ##vso[task.setvariable variable=ok]yes', 'x ##VSO[task.complete result=Succeeded]done',
  '::error title=Forged::message', '  ::stop-commands::token', '\u00a0::warning::nbsp', '\u034f::error::ignorable first',
  '#\u034f#[error]ignorable between', '#\u00ad#[error]soft hyphen between', '#\u200b#[error]zero width between',
  'a\nresult: success', 'a\r### Forged heading\r[click](https://evil.example)', 'a\r\n::error::crlf', 'a\u2028::error::ls', 'a\u2029b', 'a\u0085::error::nel',
  '\u001b[31mred\u001b[0m', '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007', '\u009b31mC1 CSI', '\u009d0;title\u009c', 'bell\u0007', 'nul\u0000byte', 'del\u007f',
  'user\u202Eexe.txt', 'worker-0\u3164', '\u2800blank', 'w\ufe0f', 'literal \\u202e escape', '\u2066isolate\u2069', '\u200eltr\u200frtl', '\u061carabic mark', '\ufeffbom', '\u{e0041}tag', 'lone \ud800 surrogate',
  'a|b', '| forged | row |', '<img src=x onerror=alert(1)>', '<details open>', '[link](https://evil.example)', '![img](https://evil.example/x.png)',
  '# heading', '*em* _em_ **strong** ~~strike~~', '`code`', '```', '&lt;entity&gt; &#124;', 'www.evil.example', 'https://evil.example/path', 'mail@evil.example',
  '> quote', '- list', '1. list', '<!-- comment -->', '\\', '\\|',
  'mermaid: a:b;c#d%e `f', '%%{init: {"theme":"dark"}}%%', 'click t0 href "https://evil.example"',
  'x'.repeat(100_000), '\u{1F600}'.repeat(1000),
];
