/**
 * HMAC-SHA256 of short texts under one key, keeping the first 16 bytes in hex: a contact id
 * (model.ts). The same value as `createHmac('sha256', key).update(text).digest()`, computed
 * here because an import makes one id per row: Node's HMAC object costs several
 * microseconds per call (a key set up, a native object, a Buffer), more than the parsing of
 * the row. The key's padded blocks are hashed once, so an address costs two SHA-256 blocks
 * (three when it is longer than 55 bytes). tests/unit/id-hash.test.ts compares it with
 * node:crypto.
 */

// biome-ignore format: the table of FIPS 180-4
const k = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const initial = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** One 64-byte block of `bytes` at `at` into `state` (FIPS 180-4, 6.2.2). */
function compress(state: Int32Array, bytes: Uint8Array, at: number, w: Int32Array): void {
  for (let t = 0; t < 16; t++) {
    const i = at + 4 * t;
    w[t] =
      ((bytes[i] as number) << 24) |
      ((bytes[i + 1] as number) << 16) |
      ((bytes[i + 2] as number) << 8) |
      (bytes[i + 3] as number);
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15] as number;
    const y = w[t - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = ((w[t - 16] as number) + s0 + (w[t - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + s1 + ch + (k[t] as number) + (w[t] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (s0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}

/**
 * `text` → the first 16 bytes of HMAC-SHA256(key, UTF-8 of text), in hex. The function
 * reuses its buffers: one caller at a time (JavaScript runs one at a time anyway).
 */
export function truncatedHmacSha256(key: Uint8Array): (text: string) => string {
  if (key.length > 64) throw new Error('an HMAC key of at most 64 bytes');
  const pad = new Uint8Array(64);
  const w = new Int32Array(64);
  const padded = (byte: number) => {
    pad.fill(byte);
    for (let i = 0; i < key.length; i++) pad[i] = (key[i] as number) ^ byte;
    const state = initial.slice();
    compress(state, pad, 0, w);
    return state;
  };
  const innerStart = padded(0x36);
  const outerStart = padded(0x5c);
  const state = new Int32Array(8);
  const encoder = new TextEncoder();
  let message = new Uint8Array(256);
  const outer = new Uint8Array(64);
  // The id's bytes, read out as hex in one call: one flat string, not a string of pieces.
  const digest = Buffer.alloc(16);
  // The outer message: 32 bytes of inner digest, then the padding for 64 + 32 bytes.
  outer[32] = 0x80;
  outer[62] = 0x03; // (64 + 32) × 8 = 768 bits = 0x0300
  return (text) => {
    // UTF-8, then 0x80, zeros and the length in bits (the key's block counted): whole blocks.
    let length = text.length;
    if (message.length < 3 * length + 72) message = new Uint8Array(3 * length + 72);
    let ascii = true;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      message[i] = c;
    }
    if (!ascii) length = encoder.encodeInto(text, message).written;
    const end = (((length + 8) >>> 6) + 1) * 64;
    message[length] = 0x80;
    // Zeros up to the length, whose four high bytes stay zero: texts are far below 512 MB.
    message.fill(0, length + 1, end - 4);
    const bits = (64 + length) * 8;
    message[end - 4] = bits >>> 24;
    message[end - 3] = (bits >>> 16) & 0xff;
    message[end - 2] = (bits >>> 8) & 0xff;
    message[end - 1] = bits & 0xff;
    state.set(innerStart);
    for (let at = 0; at < end; at += 64) compress(state, message, at, w);
    for (let i = 0; i < 8; i++) {
      const x = state[i] as number;
      outer[4 * i] = x >>> 24;
      outer[4 * i + 1] = (x >>> 16) & 0xff;
      outer[4 * i + 2] = (x >>> 8) & 0xff;
      outer[4 * i + 3] = x & 0xff;
    }
    state.set(outerStart);
    compress(state, outer, 0, w);
    for (let i = 0; i < 4; i++) digest.writeInt32BE(state[i] as number, 4 * i);
    return digest.toString('hex');
  };
}
