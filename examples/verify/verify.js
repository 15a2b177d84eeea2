#!/usr/bin/env node
// Verify one Casebook event stream, as `casebook export` writes it (one envelope a line),
// without Casebook: Node 20 and its standard library only.
//
//   node verify.js cases.jsonl        (or `-` for standard input)
//
// Every envelope's `hash` is the SHA-256 (lowercase hex) of the envelope without `hash`,
// written by the rule it names in `hash_rule`:
//   "rfc8785-sha256"  the JSON Canonicalization Scheme, RFC 8785;
//   no `hash_rule`    the rule of the first envelopes: Python's
//                     json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//                     in UTF-8.
// and names its predecessor by `prev_position` and `prev_hash` (position 0 and 64 zeros before
// the first). Prints one line and exits 0 if every hash and link holds; otherwise names the
// first bad position and why, and exits 1. Exit 2: the file cannot be read.
//
// JSON.parse is not used: it turns every number into a double, and an envelope written by the
// legacy rule may hold integers beyond 2^53 and floats ("1.0") whose spelling the hash covers.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const readline = require('readline');

const RFC8785 = 'rfc8785-sha256';
const GENESIS_HASH = '0'.repeat(64);
const GENESIS_POSITION = 0n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// A JSON number written with a fraction or an exponent: Python reads it as a float, and both
// rules write floats differently from integers.
class Float {
  constructor(value) {
    this.value = value;
  }
}

class Problem extends Error {}

// JSON text → values: objects as Map (a repeated key keeps its last value, as Python does),
// integers as BigInt, other numbers as Float.
function parse(text) {
  let at = 0;
  const fail = (what) => {
    throw new Problem(`not valid JSON at character ${at}: ${what}`);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at += 1;
  };
  const expect = (word) => {
    if (text.slice(at, at + word.length) !== word) fail(`expected ${word}`);
    at += word.length;
  };
  const string = () => {
    expect('"');
    let out = '';
    for (;;) {
      if (at >= text.length) fail('unterminated string');
      const c = text[at];
      at += 1;
      if (c === '"') return out;
      if (c < ' ') fail('unescaped control character in a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[at];
      at += 1;
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) out += simple[e];
      else if (e === 'u') {
        const hex = text.slice(at, at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        at += 4;
      } else fail('bad escape');
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at));
    if (!match) fail('bad number');
    at += match[0].length;
    return match[2] || match[3] ? new Float(Number(match[0])) : BigInt(match[0]);
  };
  const value = () => {
    space();
    const c = text[at];
    let result;
    if (c === '{') {
      at += 1;
      result = new Map();
      space();
      if (text[at] === '}') at += 1;
      else {
        for (;;) {
          space();
          const key = string();
          space();
          expect(':');
          result.set(key, value());
          space();
          if (text[at] === ',') at += 1;
          else {
            expect('}');
            break;
          }
        }
      }
    } else if (c === '[') {
      at += 1;
      result = [];
      space();
      if (text[at] === ']') at += 1;
      else {
        for (;;) {
          result.push(value());
          space();
          if (text[at] === ',') at += 1;
          else {
            expect(']');
            break;
          }
        }
      }
    } else if (c === '"') result = string();
    else if (c === 't') (expect('true'), (result = true));
    else if (c === 'f') (expect('false'), (result = false));
    else if (c === 'n') (expect('null'), (result = null));
    else result = number();
    space();
    return result;
  };
  const result = value();
  if (at !== text.length) fail('trailing characters');
  return result;
}

// Both rules escape strings alike: RFC 8785 as ES JSON.stringify (section 3.2.2.2), Python's
// json.dumps with ensure_ascii=False: `"`, `\`, the five short escapes, and every other
// character below U+0020 as \u00xx in lowercase hex; everything else, DEL and U+2028
// included, as itself.
const SHORT_ESCAPES = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function quote(text) {
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const pair = unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      // UTF-8 cannot encode a lone surrogate, so neither rule can hash it.
      if (!pair) throw new Problem(`a string holds a lone surrogate U+${unit.toString(16)}`);
      out += c + text[i + 1];
      i += 1;
    } else if (c in SHORT_ESCAPES) out += SHORT_ESCAPES[c];
    else if (unit < 0x20) out += '\\u' + unit.toString(16).padStart(4, '0');
    else out += c;
  }
  return out + '"';
}

// RFC 8785 section 3.2.3: keys sorted by their UTF-16 code units, which is how JavaScript
// compares strings.
function byCodeUnits(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Python's sort_keys: by code points. It differs from UTF-16 order only where a key holds a
// character above U+FFFF (a surrogate pair) against one in U+E000..U+FFFF.
function byCodePoints(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

// Python's float repr: the shortest digits that read back as the same double (what
// toExponential() gives too), positional when the decimal point falls within -4 < point <= 16,
// else d.ddde±XX with at least two exponent digits; a positional integer ends in ".0".
function pythonFloat(x) {
  if (!Number.isFinite(x)) throw new Problem(`a number is not finite (${x})`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const point = exponent + 1;
  if (point > -4 && point <= 16) {
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  const magnitude = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
}

function canonical(value, rfc) {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'bigint' && (!rfc || (value <= MAX_SAFE && value >= -MAX_SAFE))) {
    return value.toString();
  }
  if (typeof value === 'bigint' || value instanceof Float) {
    if (!rfc) return pythonFloat(value.value);
    // RFC 8785 numbers are IEEE 754 doubles: one beyond 2^53 is read as the nearest double
    // (a float written as 1e20 is spelled 100000000000000000000, and read back as an integer).
    const number = typeof value === 'bigint' ? Number(value) : value.value;
    if (!Number.isFinite(number)) throw new Problem(`the number ${value} is beyond the range of a double`);
    return JSON.stringify(number); // ES Number::toString, as RFC 8785 section 3.2.2.3 says
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item, rfc)).join(',')}]`;
  const keys = [...value.keys()].sort(rfc ? byCodeUnits : byCodePoints);
  return `{${keys.map((key) => `${quote(key)}:${canonical(value.get(key), rfc)}`).join(',')}}`;
}

function envelopeHash(envelope) {
  const body = new Map([...envelope].filter(([key]) => key !== 'hash'));
  const rule = body.get('hash_rule');
  if (rule !== undefined && rule !== RFC8785) {
    throw new Problem(`unknown hash rule ${JSON.stringify(rule)}`);
  }
  const text = canonical(body, rule === RFC8785);
  return crypto.createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

// What is wrong with `envelope` as the successor of `previous`; empty if nothing.
function problemsOf(envelope, previous) {
  const problems = [];
  try {
    if (envelope.get('hash') !== envelopeHash(envelope)) {
      problems.push("hash does not match the envelope's content");
    }
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    problems.push(error.message);
  }
  const prevPosition = envelope.get('prev_position');
  if (previous === null) {
    if (prevPosition === GENESIS_POSITION && envelope.get('prev_hash') !== GENESIS_HASH) {
      problems.push('prev_hash of the first envelope is not the genesis hash');
    }
  } else {
    if (prevPosition !== previous.position) {
      problems.push(`prev_position is ${prevPosition}, expected ${previous.position}`);
    }
    if (envelope.get('prev_hash') !== previous.hash) {
      problems.push("prev_hash does not match the previous envelope's hash");
    }
    if (envelope.get('source') !== previous.source) {
      problems.push(`source is ${envelope.get('source')}, expected ${previous.source}`);
    }
  }
  if (typeof prevPosition === 'bigint' && !(envelope.get('position') > prevPosition)) {
    problems.push(`position ${envelope.get('position')} does not follow prev_position ${prevPosition}`);
  }
  return problems;
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error('usage: node verify.js STREAM.jsonl   (- reads standard input)');
    return 2;
  }
  let input;
  try {
    input = argv[0] === '-' ? process.stdin : fs.createReadStream('', { fd: fs.openSync(argv[0], 'r') });
  } catch (error) {
    console.error(`cannot read ${argv[0]}: ${error.message}`);
    return 2;
  }
  let previous = null;
  let first = null;
  let count = 0;
  let lineNumber = 0;
  for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    const after = previous === null ? 'the start' : `position ${previous.position}`;
    let envelope;
    try {
      envelope = parse(line);
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      console.log(`FAILED: line ${lineNumber} (after ${after}): ${error.message}`);
      return 1;
    }
    const position = envelope instanceof Map ? envelope.get('position') : undefined;
    if (typeof position !== 'bigint') {
      console.log(`FAILED: line ${lineNumber} (after ${after}): not an envelope with a position`);
      return 1;
    }
    const problems = problemsOf(envelope, previous);
    if (problems.length) {
      console.log(`FAILED: position ${position}: ${problems.join('; ')}`);
      return 1;
    }
    previous = { position, hash: envelope.get('hash'), source: envelope.get('source') };
    first = first ?? envelope;
    count += 1;
  }
  if (previous === null) {
    console.log('verified 0 envelopes: the stream is empty');
    return 0;
  }
  const from = first.get('prev_position') === GENESIS_POSITION
    ? 'from genesis'
    : `after position ${first.get('prev_position')} (its hash taken as given)`;
  console.log(
    `verified ${count} envelopes of ${previous.source}: positions ${first.get('position')}` +
      `..${previous.position} chain ${from}, head hash ${previous.hash}`,
  );
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
