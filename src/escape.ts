// Text from the cluster (CSR names, CNs, SANs, node names, operator and pool messages) is chosen by
// whoever creates the object. It stays data until it reaches a medium; each medium has exactly one
// function here, applied where the text enters it:
//   logLine       a line of the job log or the CLI's stderr (a whole line, our words included)
//   terminalText  a field of the CLI's text report
//   markdownText  a field of the job summary (table cell or paragraph)
//   chartText     a field inside Mermaid source
//   outputJson    a JSON output or a diagnostics file
// What each must stop is a fact about its reader: the GitHub runner takes `::cmd::` at the start
// of a (trimmed) line and the legacy `##[cmd]` anywhere in it, Azure Pipelines' agent `##vso[`
// anywhere; CommonMark ends a line at \n, \r\n or a lone \r; a terminal acts on C0 and C1
// controls; bidi overrides reorder what a reader sees.

/** Longest field any medium shows; longer text is cut with a note of how much was left out. */
export const MAX_FIELD_CHARS = 300;

/**
 * Characters no medium shows as themselves: controls (C0, DEL, C1), format characters (bidi
 * marks and overrides, zero-width characters, BOM, tags), line and paragraph separators, lone
 * surrogates, and the characters that draw nothing (Unicode's default-ignorable ones: Hangul
 * fillers, the combining grapheme joiner, variation selectors; and the braille blank), which
 * would make two names look alike.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|\p{Cs}/gu;

const codeOf = (c: string): string => {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * Invisible characters as `\uXXXX`, so a reader sees that they were there; a backslash as `\\`,
 * so a name that holds the six characters `\u202e` does not read like one that held U+202E.
 */
function visible(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(INVISIBLE, codeOf);
}

/** At most `max` characters (whole code points), with a note of how many were left out. */
export function bounded(text: string, max = MAX_FIELD_CHARS): string {
  if (text.length <= max) return text;
  const points = [...text];
  if (points.length <= max) return text;
  return `${points.slice(0, max).join('')}…(${points.length - max} more characters)`;
}

/**
 * No workflow command of any runner can be formed: a `#` before another `#` (the legacy `##[`,
 * Azure's `##vso[`) or before any non-ASCII character (which a culture-aware search may skip as
 * ignorable) is escaped wherever it stands, and so is a `:` or non-ASCII character that would
 * start the trimmed line (`::cmd::`).
 */
function noCommands(text: string): string {
  return text.replace(/#(?=[#\u0080-\uffff])/g, '\\u0023').replace(/^(\s*)([:\u0080-\u{10ffff}])/u, (_, space: string, first: string) => `${space}${codeOf(first)}`);
}

/** Longest log line: a line is for a person; the full data goes to the outputs and diagnostics. */
const MAX_LOG_LINE_CHARS = 4000;

/** A whole log line (the action's log, the CLI's stderr): one line, no command, bounded. */
export function logLine(line: string): string {
  return noCommands(visible(bounded(line, MAX_LOG_LINE_CHARS)));
}

/** A field of the CLI's text report (stdout, often a CI log too): one line, no command, bounded. */
export function terminalText(text: unknown): string {
  return noCommands(visible(bounded(String(text ?? ''))));
}

/**
 * A field of the job summary: every ASCII punctuation character backslash-escaped (CommonMark
 * allows it for each, and it then is only text: no emphasis, link, HTML, entity, table pipe,
 * autolink literal (`www\.`, `https\:`, `a\@b`) or heading), invisible characters shown.
 */
export function markdownText(text: unknown): string {
  return visible(bounded(String(text ?? ''))).replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/**
 * A field inside Mermaid source: invisible characters shown, then every character outside a small
 * safe set a Mermaid entity code (`#58;` for `:`), which Mermaid turns back into that character
 * as text. So no `:`, `;`, `#`, `%` or line break can end a task, start a comment or a
 * directive, and no backtick can close the Markdown fence.
 */
export function chartText(text: unknown): string {
  return [...visible(bounded(String(text ?? ''), 200))].map((c) => (/[A-Za-z0-9 ._+()/,-]/.test(c) ? c : `#${c.codePointAt(0)};`)).join('');
}

/**
 * JSON for an output or a diagnostics file: the same value for a program that parses it, and
 * printable ASCII without `#` for anything that prints it raw (every other character a `\uXXXX`
 * escape, which JSON decodes back). Strings are not cut here: list outputs are bounded by
 * `boundedList`, and the diagnostics keep everything.
 */
export function outputJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[^\u0020-\u007e\n]|#/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
