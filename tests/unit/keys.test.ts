import { describe, expect, test } from 'vitest';
import { classForKey, classKeys, filterClasses, keyForClass, keyToAction } from '../../www/app/keys';

describe('keyToAction', () => {
  test.each([
    ['1', 10, { kind: 'label', classIndex: 0 }],
    ['9', 10, { kind: 'label', classIndex: 8 }],
    ['0', 10, { kind: 'label', classIndex: 9 }],
    ['3', 3, { kind: 'label', classIndex: 2 }],
    [' ', 10, { kind: 'skip' }],
    ['Backspace', 10, { kind: 'undo' }],
    ['?', 10, { kind: 'help' }],
    ['n', 10, { kind: 'newClass' }],
    ['/', 10, { kind: 'filter' }],
    ['b', 10, { kind: 'view', view: 'batch' }],
    ['a', 10, { kind: 'none' }],
    ['Enter', 10, { kind: 'none' }],
  ])('key %j with %i classes', (key, n, want) => {
    expect(keyToAction(key, n)).toEqual(want);
  });

  test('a digit beyond the classes is an error that says how many there are', () => {
    const a = keyToAction('7', 3);
    expect(a.kind).toBe('error');
    expect(a.kind === 'error' && a.message).toMatch(/Key 7 is for class 7, but this project has 3 classes \(keys 1–3\)/);
    expect(keyToAction('0', 9).kind).toBe('error');
    expect(keyToAction('1', 0)).toEqual({ kind: 'error', message: 'This project has no classes yet: press n to add one.' });
  });

  test('keys with modifiers (browser shortcuts) are left alone', () => {
    expect(keyToAction('1', 10, true)).toEqual({ kind: 'none' });
  });
});

test('class keys follow the number row: 1…9 then 0; none past the tenth', () => {
  expect([0, 1, 8, 9, 10].map(keyForClass)).toEqual(['1', '2', '9', '0', null]);
  for (let i = 0; i < 10; i++) expect(classForKey(keyForClass(i)!)).toBe(i);
});

test('filterClasses matches parts of names, case-insensitively, in class order', () => {
  expect(filterClasses(['Shirt', 'T-shirt/top', 'Bag'], 'SHIRT')).toEqual([0, 1]);
  expect(filterClasses(['a', 'b'], '')).toEqual([0, 1]);
});

describe('classes named with digits sit on their own digit', () => {
  test('wine: classes "0", "1", "2" are on keys 0, 1, 2 (pressing 1 stores "1", not "0")', () => {
    const names = ['0', '1', '2'];
    expect(classKeys(names)).toEqual(['0', '1', '2']);
    expect(keyToAction('1', names)).toEqual({ kind: 'label', classIndex: 1 });
    expect(keyToAction('0', names)).toEqual({ kind: 'label', classIndex: 0 });
    const a = keyToAction('3', names);
    expect(a.kind === 'error' && a.message).toMatch(/No class is on key 3: this project's class keys are 0, 1, 2/);
  });

  test('digits in any order, and mixed with names: a digit class never sits on another digit', () => {
    expect(classKeys(['3', '1', '2'])).toEqual(['3', '1', '2']);
    expect(classKeys(['cat', '1', 'dog'])).toEqual(['2', '1', '3']);
    expect(classKeys(['1', '1'])).toEqual(['1', null]); // the same digit twice: only one keeps it
    const eleven = Array.from({ length: 11 }, (_, i) => `c${i}`);
    eleven[10] = '5';
    const keys = classKeys(eleven);
    expect(keys[10]).toBe('5');
    for (let i = 0; i < 10; i++) if (keys[i] !== null) expect(keys[i]).not.toBe('5');
    expect(keys.filter((k) => k !== null)).toHaveLength(10);
  });

  test('names without digits keep the number row: 1 for the first class', () => {
    expect(classKeys(['a', 'b', 'c'])).toEqual(['1', '2', '3']);
    expect(keyToAction('1', ['a', 'b'])).toEqual({ kind: 'label', classIndex: 0 });
  });
});

test('a held key (auto-repeat) never labels, skips or undoes', () => {
  expect(keyToAction('1', 3, false, true)).toEqual({ kind: 'none' });
  expect(keyToAction(' ', 3, false, true)).toEqual({ kind: 'none' });
  expect(keyToAction('Backspace', 3, false, true)).toEqual({ kind: 'none' });
  expect(keyToAction('1', 3, false, false)).toEqual({ kind: 'label', classIndex: 0 });
});
