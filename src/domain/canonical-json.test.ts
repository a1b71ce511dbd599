import { describe, expect, it } from 'vitest'
import { canonicalJson, pythonFloat } from './canonical-json.js'

const lossless = (value: string) => ({ isLosslessNumber: true as const, value })

describe('canonicalJson', () => {
  it('formats floats exactly as Python repr does', () => {
    const cases: Array<[number, string]> = [
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5, '1.5'],
      [123456789.123, '123456789.123'],
      [1e-7, '1e-07'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [5e-324, '5e-324'],
      [0.1 + 0.2, '0.30000000000000004'],
      [12345678901234568, '1.2345678901234568e+16'],
      [-2.5e-5, '-2.5e-05'],
      [100, '100.0'],
      [-0, '-0.0'],
      [1e22, '1e+22'],
      [123e-20, '1.23e-18'],
    ]
    for (const [value, text] of cases) expect(pythonFloat(value)).toBe(text)
  })

  it('sorts keys by code point and escapes non-ASCII with lowercase surrogate pairs', () => {
    const value = {
      b: [1, lossless('2.0'), { é: '\u{1F600}\x7f\n"' }],
      a: null,
      '\u{1F600}': 1,
      '\uff01': 2,
      z: true,
    }
    expect(canonicalJson(value)).toBe(
      '{"a":null,"b":[1,2.0,{"\\u00e9":"\\ud83d\\ude00\\u007f\\n\\""}],"z":true,"\\uff01":2,"\\ud83d\\ude00":1}',
    )
  })

  it('keeps ints from lossless text as ints and floats as Python floats', () => {
    expect(
      canonicalJson([lossless('1.0'), lossless('1E5'), lossless('12345678901234567890'), lossless('-0')]),
    ).toBe('[1.0,100000.0,12345678901234567890,0]')
  })

  it('treats integral plain numbers as ints (the documented break for JSON.parse input)', () => {
    expect(canonicalJson({ x: 1.0, y: 2.5 })).toBe('{"x":1,"y":2.5}')
  })

  it('refuses cycles', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalJson(cyclic)).toThrow(TypeError)
  })
})
