/**
 * Bits over a job's user indexes (bit i: the user at index i), laid out as Redis lays out a string
 * it SETBITs: bit 0 is the high bit of byte 0. A bitmap read from Redis (GET) is read as is, and one
 * built here is written to Redis (SET) as is. A shorter array than the users reads as zeros past its
 * end, as Redis does: a bitmap whose high users never had a bit set is short.
 */
export type Bitmap = Uint8Array;

export function newBitmap(length: number): Bitmap {
  return new Uint8Array(Math.ceil(length / 8));
}

export function getBit(bits: Bitmap, index: number): boolean {
  const byte = index >> 3;
  return byte < bits.length && (bits[byte]! & (0x80 >> (index & 7))) !== 0;
}

export function setBit(bits: Bitmap, index: number): void {
  const byte = index >> 3;
  if (byte >= bits.length) throw new RangeError(`bit ${index} is past the bitmap's ${bits.length * 8} bits`);
  bits[byte] = bits[byte]! | (0x80 >> (index & 7));
}

/** Set bits from `from` up to, not including, `to`. */
export function countBits(bits: Bitmap, from = 0, to = bits.length * 8): number {
  let count = 0;
  const end = Math.min(to, bits.length * 8);
  let i = Math.max(0, from);
  // Bit by bit to a byte boundary, then whole bytes.
  for (; i < end && (i & 7) !== 0; i++) if (getBit(bits, i)) count++;
  for (; i + 8 <= end; i += 8) count += BYTE_BITS[bits[i >> 3]!]!;
  for (; i < end; i++) if (getBit(bits, i)) count++;
  return count;
}

/** ORs `source` into `target` (bits past `target`'s end are an error: size `target` for the job). */
export function orInto(target: Bitmap, source: Bitmap): void {
  if (source.length > target.length && source.subarray(target.length).some((b) => b !== 0))
    throw new RangeError("the source bitmap has bits past the target's end");
  for (let i = 0; i < Math.min(target.length, source.length); i++) target[i] = target[i]! | source[i]!;
}

const BYTE_BITS = Uint8Array.from({ length: 256 }, (_, byte) => {
  let n = 0;
  for (let b = byte; b > 0; b >>= 1) n += b & 1;
  return n;
});
