// A bounded map that forgets its least recently used entry first, in O(1) per operation: the client records of
// the budget and detector stores. Not a Map evicting its first key by iteration: JavaScriptCore's (Bun's) map
// iterator steps over every deleted entry still in the table, about 40 µs per eviction at 100,000 entries.

interface Node<K, V> {
  key: K;
  value: V;
  /** Toward the most recently used end. */
  newer: Node<K, V> | null;
  /** Toward the least recently used end. */
  older: Node<K, V> | null;
}

export class LruMap<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>();
  private newest: Node<K, V> | null = null;
  private oldest: Node<K, V> | null = null;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`LruMap: capacity must be an integer ≥ 1, got ${capacity}`);
  }

  get size(): number {
    return this.nodes.size;
  }

  has(key: K): boolean {
    return this.nodes.has(key);
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const n = this.nodes.get(key);
    if (!n) return undefined;
    this.toNewest(n);
    return n.value;
  }

  /** The value, its recency untouched. */
  peek(key: K): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Sets the value as the most recently used; past capacity the least recently used entry is dropped. */
  set(key: K, value: V): this {
    const n = this.nodes.get(key);
    if (n) {
      n.value = value;
      this.toNewest(n);
      return this;
    }
    const added: Node<K, V> = { key, value, newer: null, older: null };
    this.nodes.set(key, added);
    this.link(added);
    if (this.nodes.size > this.capacity) this.delete(this.oldest!.key);
    return this;
  }

  delete(key: K): boolean {
    const n = this.nodes.get(key);
    if (!n) return false;
    this.unlink(n);
    this.nodes.delete(key);
    return true;
  }

  /** Entries from the least to the most recently used; deleting the current one while iterating is safe. */
  *entries(): IterableIterator<[K, V]> {
    for (let n = this.oldest; n;) {
      const next = n.newer;
      yield [n.key, n.value];
      n = next;
    }
  }

  private link(n: Node<K, V>): void {
    n.older = this.newest;
    n.newer = null;
    if (this.newest) this.newest.newer = n;
    this.newest = n;
    this.oldest ??= n;
  }

  private unlink(n: Node<K, V>): void {
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    n.newer = n.older = null;
  }

  private toNewest(n: Node<K, V>): void {
    if (this.newest === n) return;
    this.unlink(n);
    this.link(n);
  }
}
