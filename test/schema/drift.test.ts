import { describe, expect, it } from 'vitest';
import { diffTable, widenedType, widthFor } from '../../shared/schema/drift';
import type { DestinationColumn } from '../../shared/schema/table-model';

const property = (name: string) => ({ kind: 'property', property: name }) as const;

describe('schema drift', () => {
  it('widens strings, integers and decimal scale; keeps wider existing columns', () => {
    expect(widenedType({ kind: 'string', length: 100 }, { kind: 'string', length: 200 })).toEqual({
      kind: 'string',
      length: 200,
    });
    expect(widenedType({ kind: 'string', length: 'max' }, { kind: 'string', length: 200 })).toEqual({
      kind: 'string',
      length: 'max',
    });
    expect(widenedType({ kind: 'int' }, { kind: 'bigint' })).toEqual({ kind: 'bigint' });
    expect(widenedType({ kind: 'bigint' }, { kind: 'int' })).toEqual({ kind: 'bigint' });
    expect(widenedType({ kind: 'decimal', scale: 2 }, { kind: 'decimal', scale: 4 })).toEqual({
      kind: 'decimal',
      scale: 4,
    });
    expect(widenedType({ kind: 'int' }, { kind: 'decimal', scale: 2 })).toEqual({ kind: 'decimal', scale: 2 });
  });

  it('cannot widen across kinds', () => {
    expect(widenedType({ kind: 'string', length: 100 }, { kind: 'int' })).toBeUndefined();
    expect(widenedType({ kind: 'guid' }, { kind: 'string', length: 36 })).toBeUndefined();
    expect(widenedType({ kind: 'decimal', scale: 2 }, { kind: 'int' })).toBeUndefined();
  });

  it('adds missing columns, widens narrower ones, reports conflicts and never drops', () => {
    const wanted: DestinationColumn[] = [
      { name: 'Id', type: { kind: 'guid' }, source: { kind: 'id' } },
      { name: 'name', type: { kind: 'string', length: 200 }, source: property('name') },
      { name: 'code', type: { kind: 'int' }, source: property('code') },
      { name: 'added', type: { kind: 'bit' }, source: property('added') },
    ];
    const { actions, conflicts } = diffTable(wanted, [
      { name: 'id', type: { kind: 'guid' } },
      { name: 'name', type: { kind: 'string', length: 100 } },
      { name: 'code', type: { kind: 'string', length: 10 } },
      { name: 'removed', type: { kind: 'int' } },
    ]);
    expect(actions).toEqual([
      {
        kind: 'widenColumn',
        column: 'name',
        from: { kind: 'string', length: 100 },
        to: { kind: 'string', length: 200 },
      },
      { kind: 'addColumn', column: wanted[3] },
    ]);
    expect(conflicts).toEqual([{ column: 'code', existing: { kind: 'string', length: 10 }, wanted: { kind: 'int' } }]);
  });

  it('grows over-long string columns in powers of two, to max beyond 4,000', () => {
    expect(widthFor(101)).toEqual({ kind: 'string', length: 128 });
    expect(widthFor(4000)).toEqual({ kind: 'string', length: 4000 });
    expect(widthFor(3000)).toEqual({ kind: 'string', length: 4000 });
    expect(widthFor(4001)).toEqual({ kind: 'string', length: 'max' });
  });
});
