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
