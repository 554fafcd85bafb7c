// Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag
// (the text between the first "{" and the next "}", when not empty), mod
// 16384. redisStore computes them to split a commit into one script per slot.

const SLOTS = 16_384;
const encoder = new TextEncoder();

const TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** The cluster slot of a Redis key. */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of encoder.encode(key)) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc % SLOTS;
}

/** A key that hashes to `slot`, so a keyless command can be routed there
 * (a cluster client routes by key). At most a few ten thousand tries. */
export function keyInSlot(slot: number): string {
  for (let n = 0;; n++) {
    const key = `{${n.toString(36)}}`;
    if (keySlot(key) === slot) return key;
  }
}
