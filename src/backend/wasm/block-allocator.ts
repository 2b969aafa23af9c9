// The allocator of the wasm backend's reserved blocks (compiled chains' arenas at the bottom of linear memory):
// best-fit reuse with splitting, free neighbours merged, and a free block at the top lowering the end.
// NOTE: a first-fit allocator that handed out whole blocks ran out of wasm32's 4 GiB in a CIFAR-10 audit: a
// chain needing 1 MiB took a freed 200 MiB arena, so the next large chain had to grow memory again.

export interface Block {
  offset: number;
  bytes: number;
}

export class BlockAllocator {
  private end = 0;
  private readonly free: Block[] = []; // sorted by offset, never adjacent, never touching `end`

  /** `ensure(end)` makes memory at least `end` bytes long (growing it, or throwing a clear error). */
  constructor(private readonly ensure: (end: number) => void) {}

  /** Bytes in use below the scratch space (reserved blocks and the free holes between them). */
  get reservedEnd(): number {
    return this.end;
  }

  /** A block of `bytes` (a multiple of 16): the smallest free block that fits, split, else new space at the top. */
  reserve(bytes: number): Block {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].bytes >= bytes && (best < 0 || this.free[i].bytes < this.free[best].bytes))
        best = i;
    }
    if (best >= 0) {
      const hole = this.free[best];
      if (hole.bytes === bytes) this.free.splice(best, 1);
      else this.free[best] = { offset: hole.offset + bytes, bytes: hole.bytes - bytes };
      return { offset: hole.offset, bytes };
    }
    const block = { offset: this.end, bytes };
    this.ensure(this.end + bytes);
    this.end += bytes;
    return block;
  }

  /** Gives a block back; releasing one twice (or one overlapping a free block) throws. */
  release(block: Block): void {
    let i = 0;
    while (i < this.free.length && this.free[i].offset < block.offset) i++;
    const prev = this.free[i - 1],
      next = this.free[i];
    if (
      (prev && prev.offset + prev.bytes > block.offset) ||
      (next && block.offset + block.bytes > next.offset) ||
      block.offset + block.bytes > this.end
    ) {
      throw new Error(
        `wasm backend: block at ${block.offset} (${block.bytes} bytes) released twice or overlapping a free block`,
      );
    }
    let merged = { ...block };
    if (prev && prev.offset + prev.bytes === merged.offset) {
      merged = { offset: prev.offset, bytes: prev.bytes + merged.bytes };
      this.free.splice(--i, 1);
    }
    if (next && merged.offset + merged.bytes === next.offset) {
      merged = { offset: merged.offset, bytes: merged.bytes + next.bytes };
      this.free.splice(i, 1);
    }
    if (merged.offset + merged.bytes === this.end) this.end = merged.offset;
    else this.free.splice(i, 0, merged);
  }

  /** Free bytes and holes below `reservedEnd` (diagnostics and tests). */
  stats(): { reservedEnd: number; freeBytes: number; freeBlocks: number } {
    return {
      reservedEnd: this.end,
      freeBytes: this.free.reduce((s, b) => s + b.bytes, 0),
      freeBlocks: this.free.length,
    };
  }
}
