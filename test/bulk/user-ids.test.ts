import { describe, expect, it } from "@jest/globals";
import { PackedUserIds } from "../../src/bulk/user-ids.js";

describe("PackedUserIds", () => {
  const ids = ["1", "ü", "用户-42", "😀", "a b\tc", "x".repeat(1_000), "", "last"];

  it("gives back every id unchanged and in order, multi-byte characters included", () => {
    const packed = PackedUserIds.from(ids, ids.length);
    expect(packed.length).toBe(ids.length);
    expect(packed.slice(0, ids.length)).toEqual(ids);
  });

  it("slices like Array#slice, clamped to the list", () => {
    const packed = PackedUserIds.from(ids, ids.length);
    expect(packed.slice(2, 4)).toEqual(ids.slice(2, 4));
    expect(packed.slice(6, 100)).toEqual(ids.slice(6, 100));
    expect(packed.slice(-3, 1)).toEqual(["1"]);
    expect(packed.slice(5, 5)).toEqual([]);
    expect(packed.slice(20, 30)).toEqual([]);
  });

  it("keeps a Set's insertion order, so de-duplicating keeps the caller's order", () => {
    const unique = new Set(["b", "a", "b", "c", "a"]);
    expect(PackedUserIds.from(unique, unique.size).slice(0, 3)).toEqual(["b", "a", "c"]);
  });

  it("packs an empty list", () => {
    const packed = PackedUserIds.from([], 0);
    expect(packed.length).toBe(0);
    expect(packed.slice(0, 10)).toEqual([]);
  });

  it("refuses a count that does not match the ids, rather than pack a wrong list", () => {
    expect(() => PackedUserIds.from(["a", "b"], 1)).toThrow(/more than the 1 ids announced/);
    expect(() => PackedUserIds.from(["a"], 2)).toThrow(/1 ids where 2 were announced/);
  });

  it("refuses ids that change between its two passes rather than pack garbage", () => {
    const shifting = (second: string[]): Iterable<string> => {
      let walks = 0;
      return { [Symbol.iterator]: () => (walks++ === 0 ? ["ab", "c"] : second)[Symbol.iterator]() };
    };
    expect(() => PackedUserIds.from(shifting(["ab"]), 2)).toThrow(/changed while they were packed/);
    expect(() => PackedUserIds.from(shifting(["ab", "cd"]), 2)).toThrow(/changed while they were packed/);
    expect(() => PackedUserIds.from(shifting(["ab", "c", "d"]), 2)).toThrow(/changed while they were packed/);
    expect(() => PackedUserIds.from(shifting(["a", "bc"]), 2)).toThrow(/changed while they were packed/);
  });

  it("round-trips 100,000 ids", () => {
    const many = Array.from({ length: 100_000 }, (_, i) => `user-${i}-é`);
    const packed = PackedUserIds.from(many, many.length);
    expect(packed.slice(0, many.length)).toEqual(many);
    expect(packed.slice(99_999, 100_000)).toEqual(["user-99999-é"]);
  });
});
