// A minimal reader/writer for ONNX TensorProto files (the format of ONNX's
// test data), written against the field numbers of onnx.proto. It handles
// dims + data_type + name + raw_data, plus the typed repeated fields
// (float_data, int32_data, int64_data, double_data, uint64_data) that older
// test files use. Strings, segments and external data are refused.

// onnx.proto TensorProto.DataType -> [name used by onnxruntime-node, typed array, bytes per element]
export const DTYPES = {
  1: ['float32', Float32Array, 4],
  2: ['uint8', Uint8Array, 1],
  3: ['int8', Int8Array, 1],
  4: ['uint16', Uint16Array, 2],
  5: ['int16', Int16Array, 2],
  6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8],
  9: ['bool', Uint8Array, 1],
  10: ['float16', Uint16Array, 2],
  11: ['float64', Float64Array, 8],
  12: ['uint32', Uint32Array, 4],
  13: ['uint64', BigUint64Array, 8],
};
const CODE_OF = Object.fromEntries(Object.entries(DTYPES).map(([code, [name]]) => [name, Number(code)]));

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  done() { return this.pos >= this.buf.length; }
  varint() {
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(n) {
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.bytes(8);
    else if (wire === 2) this.bytes(Number(this.varint()));
    else if (wire === 5) this.bytes(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

// Reads a repeated scalar field that may be packed (wire 2) or not.
function readRepeated(r, wire, fixedBytes, readOne, out) {
  if (wire === 2) {
    const sub = new Reader(r.bytes(Number(r.varint())));
    while (!sub.done()) out.push(readOne(sub));
  } else {
    out.push(readOne(r));
  }
  void fixedBytes;
}

const toSigned64 = (v) => BigInt.asIntN(64, v);
const readF32 = (r) => Buffer.from(r.bytes(4)).readFloatLE(0);
const readF64 = (r) => Buffer.from(r.bytes(8)).readDoubleLE(0);

// Returns {name, type (ort type name), dims (numbers), data (typed array)}.
export function decodeTensorProto(buf) {
  const r = new Reader(buf);
  const dims = [], floats = [], int32s = [], int64s = [], doubles = [], uint64s = [];
  let dataType = 0, name = '', raw = null, location = 0;
  while (!r.done()) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: readRepeated(r, wire, 0, (s) => Number(toSigned64(s.varint())), dims); break;
      case 2: dataType = Number(r.varint()); break;
      case 3: throw new Error('segmented tensors are not supported');
      case 4: readRepeated(r, wire, 4, readF32, floats); break;
      case 5: readRepeated(r, wire, 0, (s) => Number(BigInt.asIntN(32, s.varint())), int32s); break;
      case 7: readRepeated(r, wire, 0, (s) => toSigned64(s.varint()), int64s); break;
      case 8: name = Buffer.from(r.bytes(Number(r.varint()))).toString('utf8'); break;
      case 9: raw = r.bytes(Number(r.varint())); break;
      case 10: readRepeated(r, wire, 8, readF64, doubles); break;
      case 11: readRepeated(r, wire, 0, (s) => s.varint(), uint64s); break;
      case 14: location = Number(r.varint()); break;
      default: r.skip(wire);
    }
  }
  if (location !== 0) throw new Error(`tensor '${name}' uses external data, which is not supported here`);
  const info = DTYPES[dataType];
  if (!info) throw new Error(`tensor '${name}' has unsupported data type ${dataType}`);
  const [type, Arr, size] = info;
  const count = dims.reduce((a, b) => a * b, 1);
  let data;
  if (raw) {
    if (raw.length !== count * size)
      throw new Error(`tensor '${name}' holds ${raw.length} bytes, its shape needs ${count * size}`);
    // Copy into an aligned buffer: the typed array needs element alignment.
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    data = new Arr(copy.buffer, 0, count);
  } else {
    const src = { 1: floats, 11: doubles, 7: int64s, 12: uint64s, 13: uint64s }[dataType] ?? int32s;
    if (src.length !== count) throw new Error(`tensor '${name}' holds ${src.length} values, its shape needs ${count}`);
    data = new Arr(count);
    for (let i = 0; i < count; ++i) data[i] = (Arr === BigInt64Array || Arr === BigUint64Array) ? BigInt(src[i]) : Number(src[i]);
  }
  if (type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { name, type, dims, data };
}

function varintBytes(v) {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
}

function lengthDelimited(field, payload) {
  return Buffer.concat([Buffer.from([...varintBytes((field << 3) | 2), ...varintBytes(payload.length)]), payload]);
}

// Encodes {name, type, dims, data} as a TensorProto with raw_data (little endian).
export function encodeTensorProto({ name, type, dims, data }) {
  const code = CODE_OF[type];
  if (!code) throw new Error(`cannot encode tensor '${name}' of type ${type}`);
  const parts = [];
  if (dims.length) parts.push(lengthDelimited(1, Buffer.from(dims.flatMap((d) => varintBytes(d)))));
  parts.push(Buffer.from([...varintBytes(2 << 3), ...varintBytes(code)]));
  if (name) parts.push(lengthDelimited(8, Buffer.from(name, 'utf8')));
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  parts.push(lengthDelimited(9, bytes));
  return Buffer.concat(parts);
}
