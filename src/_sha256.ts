// SHA-256 of a short ASCII string, in plain JavaScript. Hashing a session
// token happens on every request with a cookie; node:crypto's createHash
// allocates a Hash object and makes three native calls each time, which
// profiles showed as a fifth of a memory-store read. FIPS 180-4.

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Reused between calls: hashing is synchronous, so no call can interleave.
const W = new Uint32Array(64);
const H = new Uint32Array(8);
const OUT = new Uint8Array(32);
const CODES = new Uint16Array(43);
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/**
 * SHA-256 of `text`, base64url without padding. `text` must be ASCII (every
 * code unit below 128), as tokens are; returns `undefined` otherwise, so the
 * caller can fall back to a general implementation.
 */
export function sha256Ascii(text: string): string | undefined {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(i) > 127) return undefined;
  }
  // Padded message: text, 0x80, zeros, 64-bit big-endian bit length.
  const blocks = ((length + 8) >>> 6) + 1;
  H[0] = 0x6a09e667;
  H[1] = 0xbb67ae85;
  H[2] = 0x3c6ef372;
  H[3] = 0xa54ff53a;
  H[4] = 0x510e527f;
  H[5] = 0x9b05688c;
  H[6] = 0x1f83d9ab;
  H[7] = 0x5be0cd19;
  for (let block = 0; block < blocks; block++) {
    const base = block * 64;
    for (let t = 0; t < 16; t++) {
      let word = 0;
      for (let b = 0; b < 4; b++) {
        const at = base + t * 4 + b;
        const byte = at < length
          ? text.charCodeAt(at)
          : at === length
          ? 0x80
          : 0;
        word = (word << 8) | byte;
      }
      W[t] = word;
    }
    if (block === blocks - 1) {
      // Bit length in the last two words (messages here are far below 2^32 bits).
      W[14] = Math.floor(length / 0x20000000);
      W[15] = (length << 3) >>> 0;
    }
    for (let t = 16; t < 64; t++) {
      const w15 = W[t - 15]!;
      const w2 = W[t - 2]!;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^
        (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^
        (w2 >>> 10);
      W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
    }
    let a: number = H[0]!,
      b: number = H[1]!,
      c: number = H[2]!,
      d: number = H[3]!;
    let e: number = H[4]!,
      f: number = H[5]!,
      g: number = H[6]!,
      h: number = H[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
        ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[t]! + W[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
        ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    H[0] = H[0]! + a;
    H[1] = H[1]! + b;
    H[2] = H[2]! + c;
    H[3] = H[3]! + d;
    H[4] = H[4]! + e;
    H[5] = H[5]! + f;
    H[6] = H[6]! + g;
    H[7] = H[7]! + h;
  }
  for (let i = 0; i < 8; i++) {
    const word = H[i]!;
    OUT[i * 4] = word >>> 24;
    OUT[i * 4 + 1] = word >>> 16;
    OUT[i * 4 + 2] = word >>> 8;
    OUT[i * 4 + 3] = word;
  }
  // The 43 characters as codes, then one string: concatenating them would
  // make a string object per step, garbage on every request.
  let at = 0;
  for (let i = 0; i < 30; i += 3) {
    const n = (OUT[i]! << 16) | (OUT[i + 1]! << 8) | OUT[i + 2]!;
    CODES[at++] = ALPHABET_CODES[n >>> 18]!;
    CODES[at++] = ALPHABET_CODES[(n >>> 12) & 63]!;
    CODES[at++] = ALPHABET_CODES[(n >>> 6) & 63]!;
    CODES[at++] = ALPHABET_CODES[n & 63]!;
  }
  const n = (OUT[30]! << 8) | OUT[31]!;
  CODES[40] = ALPHABET_CODES[n >>> 10]!;
  CODES[41] = ALPHABET_CODES[(n >>> 4) & 63]!;
  CODES[42] = ALPHABET_CODES[(n << 2) & 63]!;
  // Each code as an argument of its own: `apply` would copy the codes into
  // an argument array first, garbage on every request.
  const c = CODES;
  // deno-fmt-ignore
  return String.fromCharCode(
    c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!,
    c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!, c[16]!, c[17]!, c[18]!,
    c[19]!, c[20]!, c[21]!, c[22]!, c[23]!, c[24]!, c[25]!, c[26]!, c[27]!,
    c[28]!, c[29]!, c[30]!, c[31]!, c[32]!, c[33]!, c[34]!, c[35]!, c[36]!,
    c[37]!, c[38]!, c[39]!, c[40]!, c[41]!, c[42]!,
  );
}
