/**
 * Seeded randomness. Simulations and protocol cores take a `Random` so that one seed reproduces a run exactly.
 * The generator is sfc32 (Small Fast Counter): 128 bits of state, fast in JavaScript, good statistical quality,
 * not cryptographic — never use it for keys or nonces.
 */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** A new independent generator derived from this one (for giving each component its own stream). */
  fork(): Random
}

export function createRandom(seed: number | string): Random {
  // Expand the seed with splitmix32 so that nearby seeds give unrelated streams.
  let s = typeof seed === 'number' ? seed >>> 0 : hashString(seed)
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  return sfc32(splitmix(), splitmix(), splitmix(), splitmix())
}

function hashString(text: string): number {
  let h = 0x811c9dc5 // FNV-1a
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

function sfc32(a: number, b: number, c: number, d: number): Random {
  const nextUint32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  // Discard the first outputs: sfc32 needs a few rounds to mix a fresh state.
  for (let i = 0; i < 12; i++) nextUint32()
  const random: Random = {
    next: () => nextUint32() / 4294967296,
    int: (n) => {
      if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`)
      return Math.floor((nextUint32() / 4294967296) * n)
    },
    fork: () => sfc32(nextUint32(), nextUint32(), nextUint32(), nextUint32()),
  }
  return random
}
