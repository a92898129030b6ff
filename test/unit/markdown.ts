// Markdown helpers shared by the README tests (test/unit/docs.test.ts, test/integration/readme.test.ts).
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';

export interface Block {
  /** The info string after the opening fence (`yaml`, `sh`, ...; '' when none). */
  readonly lang: string;
  /** The block's content, every line with its newline, fences excluded. */
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** Fenced code blocks of a Markdown text (``` fences at the start of a line). */
export function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^```([\w-]*)\n([\s\S]*?)^```[ \t]*$/gm)) {
    blocks.push({ lang: match[1]!, text: match[2]!, line: markdown.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

/** GitHub renders job summaries as GitHub-flavoured Markdown; micromark with GFM follows its spec. */
export function renderGfm(markdown: string): string {
  return micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

/**
 * A job summary as a person reads it once GitHub has rendered it: GFM to HTML, then headings as
 * `## x`, table rows as `| a | b |`, bold as `**x**`, other tags dropped and entities decoded.
 * Tests match this, not the Markdown source, whose cluster text is escaped character by character.
 */
export function readableSummary(markdown: string): string {
  return renderGfm(markdown)
    .replace(/<h(\d)>/g, (_, level: string) => `${'#'.repeat(Number(level))} `)
    .replace(/<\/h\d>/g, '')
    .replace(/<tr>\n?/g, '|')
    .replace(/<t[dh][^>]*>/g, ' ')
    .replace(/<\/t[dh]>\n?/g, ' |')
    .replace(/<\/?strong>/g, '**')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}
