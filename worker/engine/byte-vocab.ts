// The GPT-2 byte-to-unicode table: byte-level BPE vocabularies store each byte as one printable
// character so token texts are valid strings. Printable Latin-1 bytes map to themselves; the other 68
// bytes (controls, space, DEL, NBSP, soft hyphen...) map to U+0100 onwards, in byte order.

function isPrintable(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

/** byteToUnicode()[b] is the vocabulary character standing for byte b. */
export function byteToUnicode(): string[] {
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table.push(String.fromCodePoint(isPrintable(b) ? b : 256 + next++));
  }
  return table;
}
