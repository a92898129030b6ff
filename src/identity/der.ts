/**
 * A DER reader at least as strict as Go's encoding/asn1 (which the signer's x509 parser uses):
 * low tag numbers only, minimal definite lengths, minimal OID sub-identifiers, minimal INTEGERs,
 * booleans 0x00 or 0xFF, and no byte left over inside any structure (Go tolerates trailing
 * elements in a SEQUENCE; refusing them keeps the reading unambiguous).
 */
export class DerError extends Error {}

export interface DerNode {
  /** The identifier octet (class, constructed bit, tag number below 31). */
  readonly tag: number;
  readonly content: Buffer;
  /** Tag, length and content: what a signature covers. */
  readonly raw: Buffer;
}

export class DerReader {
  private offset = 0;
  private readonly buffer: Buffer;
  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  done(): boolean {
    return this.offset >= this.buffer.length;
  }

  next(): DerNode {
    const start = this.offset;
    const tag = this.byte();
    if ((tag & 0x1f) === 0x1f) throw new DerError('a DER tag in the high-tag-number form');
    let length = this.byte();
    if (length & 0x80) {
      const bytes = length & 0x7f;
      if (bytes === 0) throw new DerError('an indefinite length (not DER)');
      if (bytes > 3) throw new DerError('a DER length too large');
      length = 0;
      for (let i = 0; i < bytes; i++) {
        const b = this.byte();
        if (i === 0 && b === 0) throw new DerError('a DER length with leading zeros');
        length = length * 256 + b;
      }
      if (length < 0x80) throw new DerError('a DER length in long form below 128');
    }
    const end = this.offset + length;
    if (end > this.buffer.length) throw new DerError('truncated DER');
    const node = { tag, content: this.buffer.subarray(this.offset, end), raw: this.buffer.subarray(start, end) };
    this.offset = end;
    return node;
  }

  read(tag: number, what: string): DerNode {
    if (this.done()) throw new DerError(`${what} is missing`);
    const node = this.next();
    if (node.tag !== tag) throw new DerError(`${what}: expected DER tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
    return node;
  }

  /** Asserts nothing is left. */
  end(what: string): void {
    if (!this.done()) throw new DerError(`trailing data inside ${what}`);
  }

  private byte(): number {
    if (this.offset >= this.buffer.length) throw new DerError('truncated DER');
    return this.buffer[this.offset++]!;
  }
}

export const Der = {
  /** The one element of tag `tag` that fills `buffer`. */
  only(buffer: Buffer, tag: number, what: string): DerNode {
    const reader = new DerReader(buffer);
    const node = reader.read(tag, what);
    reader.end(what);
    return node;
  },

  /** A reader over a SEQUENCE's or SET's content. */
  sequence(node: DerNode, what: string): DerReader {
    if ((node.tag & 0x20) === 0) throw new DerError(`${what} is not a constructed value`);
    return new DerReader(node.content);
  },

  integer(node: DerNode): bigint {
    const bytes = node.content;
    if (bytes.length === 0) throw new DerError('an empty INTEGER');
    if (bytes.length > 1 && ((bytes[0] === 0 && (bytes[1]! & 0x80) === 0) || (bytes[0] === 0xff && (bytes[1]! & 0x80) !== 0))) {
      throw new DerError('an INTEGER not minimally encoded');
    }
    let value = BigInt.asIntN(8, BigInt(bytes[0]!));
    for (let i = 1; i < bytes.length; i++) value = value * 256n + BigInt(bytes[i]!);
    return value;
  },

  /** Dotted decimal; sub-identifiers minimal and below 2^31, as Go's parseBase128Int wants. */
  oid(node: DerNode): string {
    if (node.tag !== 0x06) throw new DerError('not an OBJECT IDENTIFIER');
    const bytes = node.content;
    if (bytes.length === 0) throw new DerError('an empty OBJECT IDENTIFIER');
    const parts: number[] = [];
    let value = 0;
    let length = 0;
    for (const byte of bytes) {
      if (length === 0 && byte === 0x80) throw new DerError('an OBJECT IDENTIFIER not minimally encoded');
      if (++length > 5) throw new DerError('an OBJECT IDENTIFIER component too large');
      value = value * 128 + (byte & 0x7f);
      if (!(byte & 0x80)) {
        if (value > 0x7fffffff) throw new DerError('an OBJECT IDENTIFIER component too large');
        parts.push(value);
        value = 0;
        length = 0;
      }
    }
    if (length !== 0) throw new DerError('a truncated OBJECT IDENTIFIER');
    const first = parts.shift()!;
    const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
    return [...head, ...parts].join('.');
  },

  /** The bits of a BIT STRING that uses whole bytes (what keys and signatures are). */
  bitString(node: DerNode): Buffer {
    if (node.content.length === 0 || node.content[0] !== 0) throw new DerError('a BIT STRING that is empty or not made of whole bytes');
    return node.content.subarray(1);
  },

  boolean(node: DerNode): boolean {
    if (node.tag !== 0x01 || node.content.length !== 1 || (node.content[0] !== 0 && node.content[0] !== 0xff)) {
      throw new DerError('a BOOLEAN other than 0x00 or 0xFF');
    }
    return node.content[0] === 0xff;
  },
};
