import { describe, expect, test } from 'vitest';
import { keyToAction } from '../../www/app/keys';

describe('keyToAction', () => {
  test.each([
    ['0', 10, { kind: 'label', classIndex: 0 }],
    ['9', 10, { kind: 'label', classIndex: 9 }],
    ['2', 3, { kind: 'label', classIndex: 2 }],
    ['a', 10, { kind: 'none' }],
    ['Enter', 10, { kind: 'none' }],
  ])('key %s with %i classes', (key, n, want) => {
    expect(keyToAction(key, n)).toEqual(want);
  });

  test('a digit beyond the classes is an error that says how many there are', () => {
    const a = keyToAction('7', 3);
    expect(a.kind).toBe('error');
    expect(a.kind === 'error' && a.message).toMatch(/no class 7: this project has 3 classes \(keys 0–2\)/);
  });

  test('keys with modifiers (browser shortcuts) are left alone', () => {
    expect(keyToAction('1', 10, true)).toEqual({ kind: 'none' });
  });
});
