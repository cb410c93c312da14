import { describe, expect, it } from 'vitest';
import { geminiSchema } from './schema.js';

describe('JSON Schema → Gemini schema', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined][] = [
    [
      'keeps what Gemini reads',
      {
        type: 'object',
        description: 'd',
        properties: {
          a: { type: 'string', enum: ['x', 'y'], minLength: 1 },
          b: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, maxItems: 3 },
        },
        required: ['a'],
      },
      {
        type: 'object',
        description: 'd',
        properties: {
          a: { type: 'string', enum: ['x', 'y'], minLength: 1 },
          b: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, maxItems: 3 },
        },
        required: ['a'],
      },
    ],
    [
      'drops keywords Gemini rejects',
      {
        $schema: 'x',
        $id: 'y',
        title: 'T',
        type: 'object',
        additionalProperties: false,
        properties: { a: { type: 'string', default: 'q', examples: ['e'], format: 'email' } },
        strict: true,
      },
      { type: 'object', properties: { a: { type: 'string' } } },
    ],
    [
      'keeps the formats Gemini knows',
      {
        type: 'object',
        properties: {
          t: { type: 'string', format: 'date-time' },
          f: { type: 'number', format: 'float' },
          i: { type: 'integer', format: 'int64' },
        },
      },
      {
        type: 'object',
        properties: {
          t: { type: 'string', format: 'date-time' },
          f: { type: 'number', format: 'float' },
          i: { type: 'integer', format: 'int64' },
        },
      },
    ],
    [
      'type with null → nullable',
      { type: 'object', properties: { a: { type: ['string', 'null'] } } },
      { type: 'object', properties: { a: { type: 'string', nullable: true } } },
    ],
    [
      'several types → anyOf',
      { type: 'object', properties: { a: { type: ['string', 'number'] } } },
      { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'number' }] } } },
    ],
    [
      'anyOf with null → nullable, a single alternative inlined',
      { type: 'object', properties: { a: { anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'n' } } },
      { type: 'object', properties: { a: { type: 'integer', nullable: true, description: 'n' } } },
    ],
    [
      'oneOf → anyOf',
      { type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'boolean' }] } } },
      { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } } },
    ],
    [
      '$ref into $defs is inlined',
      {
        type: 'object',
        properties: { p: { $ref: '#/$defs/Point' } },
        $defs: { Point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
      },
      { type: 'object', properties: { p: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } },
    ],
    [
      'allOf is merged',
      {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'string' } }, required: ['b'] },
        ],
      },
      { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a', 'b'] },
    ],
    [
      'const → a one-value enum',
      { type: 'object', properties: { k: { const: 'fixed' } } },
      { type: 'object', properties: { k: { type: 'string', enum: ['fixed'] } } },
    ],
    [
      'numeric enums become a note',
      { type: 'object', properties: { n: { type: 'integer', enum: [1, 2], description: 'Level.' } } },
      { type: 'object', properties: { n: { type: 'integer', description: 'Level. One of: 1, 2.' } } },
    ],
    [
      'required names only existing properties',
      { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'ghost'] },
      { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    ],
    [
      'empty nested properties are dropped, the object stays',
      { type: 'object', properties: { opts: { type: 'object', properties: {}, additionalProperties: true } } },
      { type: 'object', properties: { opts: { type: 'object' } } },
    ],
    [
      'properties on a non-object are dropped',
      { type: 'object', properties: { s: { type: 'string', properties: { x: { type: 'string' } }, required: ['x'] } } },
      { type: 'object', properties: { s: { type: 'string' } } },
    ],
    [
      'an implicit object (properties, no type) gets its type',
      { properties: { a: { type: 'string' } } },
      { type: 'object', properties: { a: { type: 'string' } } },
    ],
    [
      'exclusive bounds become inclusive ones',
      { type: 'object', properties: { n: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } } },
      { type: 'object', properties: { n: { type: 'number', minimum: 0, maximum: 1 } } },
    ],
    [
      'an object without properties is no schema at all (a tool without parameters)',
      { type: 'object', properties: {}, additionalProperties: false },
      undefined,
    ],
  ];

  it.each(cases)('%s', (_name, input, expected) => {
    expect(geminiSchema(input)).toEqual(expected);
  });

  it('a recursive $ref stops at a bounded depth', () => {
    const tree = {
      type: 'object',
      properties: { child: { $ref: '#/$defs/Node' } },
      $defs: { Node: { type: 'object', properties: { child: { $ref: '#/$defs/Node' } } } },
    };
    let depth = 0;
    let node = geminiSchema(tree) as Record<string, unknown> | undefined;
    while (node && (node.properties as Record<string, unknown> | undefined)?.child) {
      node = (node.properties as Record<string, Record<string, unknown>>).child;
      depth++;
    }
    expect(depth).toBeGreaterThan(5);
    expect(depth).toBeLessThan(20);
  });
});
