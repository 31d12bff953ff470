/**
 * Which keys were shown before, remembered approximately in little fixed memory: the
 * "doorkeeper" of TinyLFU's admission (Einziger, Friedman and Manes, 2017), a Bloom filter that
 * lets a cache admit an item on its second request without keeping every key read once.
 *
 * It holds two Bloom filters of `bits` bits each. New keys go into the current one; once it
 * holds `capacity` keys, it becomes the previous one and the one before is dropped. So it
 * remembers at least the last `capacity` distinct keys and at most the last 2 × `capacity`, in
 * 2 × `bits` / 8 bytes whatever the keys' length.
 *
 * It never forgets a key too early (no false negatives inside that window). It may answer yes
 * for a key it was never shown: with the defaults (100,000 keys in 2^20 bits, 4 probes) about
 * 1 % per filter, so at most about 2 %. For an admission filter that means a copy put on its
 * first request: a wasted write, never a wrong answer.
 *
 * Not a library: the npm Bloom filter packages bring hashing and random-number dependencies
 * larger than this file into a bundle that is budgeted (250 KiB gzipped).
 */
export class Doorkeeper {
  /** Keys per filter, before the current one becomes the previous one. */
  readonly capacity: number;
  private readonly probes: number;
  private readonly mask: number;
  private current: Uint32Array;
  private previous: Uint32Array;
  private added = 0;

  constructor(capacity = 100_000, bits = 1 << 20, probes = 4) {
    if (!Number.isInteger(Math.log2(bits)) || bits < 32) throw new RangeError('bits must be a power of two, at least 32');
    this.capacity = capacity;
    this.probes = probes;
    this.mask = bits - 1;
    this.current = new Uint32Array(bits / 32);
    this.previous = new Uint32Array(bits / 32);
  }

  /** Whether `key` was shown before (see the class: rarely yes when it was not). Remembers it either way. */
  seen(key: string): boolean {
    const [h1, h2] = hashes(key);
    if (this.has(this.current, h1, h2)) return true;
    const before = this.has(this.previous, h1, h2);
    if (this.added >= this.capacity) {
      [this.previous, this.current] = [this.current, this.previous];
      this.current.fill(0);
      this.added = 0;
    }
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.current[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.added++;
    return before;
  }

  /** Forgets everything. */
  clear(): void {
    this.current.fill(0);
    this.previous.fill(0);
    this.added = 0;
  }

  private has(filter: Uint32Array, h1: number, h2: number): boolean {
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * Two 32-bit hashes of a string for double hashing (Kirsch and Mitzenmacher): FNV-1a over its
 * UTF-16 code units, through MurmurHash3's finalizer so that the low bits a filter's index takes
 * depend on every bit; the second is the first mixed again, and odd, so the probes of one key
 * never fall on one bit.
 */
function hashes(key: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const h1 = mix(h);
  return [h1, mix(h1 + 0x9e3779b9) | 1];
}

/** MurmurHash3's 32-bit finalizer. */
function mix(value: number): number {
  let h = value ^ (value >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
