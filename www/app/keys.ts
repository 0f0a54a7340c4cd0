// Keyboard mapping for labelling, as pure functions so they can be unit-tested.
//
// Class keys follow the order of the keyboard's number row: key 1 is the first class, …,
// key 9 the ninth, key 0 the tenth, except that a class named with a digit sits on that
// digit (classKeys). Classes without a digit: `/` opens the filterable class list (type
// part of a name, Enter labels).

/** The views a key can switch to. */
export type View = 'label' | 'batch' | 'dashboard' | 'projects';

/** What a key press asks for. */
export type KeyAction =
  | { kind: 'label'; classIndex: number }
  | { kind: 'error'; message: string }
  | { kind: 'skip' }
  | { kind: 'undo' }
  | { kind: 'help' }
  | { kind: 'newClass' }
  | { kind: 'filter' }
  | { kind: 'view'; view: View }
  | { kind: 'none' };

/** Every key, for the `?` help and the docs: [key, what it does]. */
export const KEY_HELP: [string, string][] = [
  ['1 … 9, 0', 'label with class 1 … 9, 10: the digit shown on its button (a class named with a digit is on that digit); holding a key labels once'],
  ['/', 'find a class by name (for more than ten classes); Enter labels'],
  ['Space', 'skip this sample (it comes back later)'],
  ['Backspace', 'undo the last decision (the last 20 are listed and can be changed)'],
  ['n', 'add a new class'],
  ['l, b, d, p', 'views: label, batch, dashboard, projects (import, export, backup)'],
  ['?', 'show or hide these keys'],
  ['Tab, Enter', 'move between and press any button'],
];

/** The digit key for class `i` (0-based) in the number-row order, or null past the tenth. */
export function keyForClass(i: number): string | null {
  if (i < 0 || i > 9) return null;
  return i === 9 ? '0' : String(i + 1);
}

const isDigit = (s: string) => s.length === 1 && s >= '0' && s <= '9';

/**
 * The digit key of each class (null: none, use `/`). A class named with a single digit
 * sits on that digit, never on another: wine's classes "0", "1", "2" are on 0, 1, 2, so
 * pressing 1 stores "1". The other classes take the digits left, in number-row order
 * (1…9, 0), so a project without digit names keeps 1 for its first class.
 */
export function classKeys(names: readonly string[]): (string | null)[] {
  const keys: (string | null)[] = names.map((n) => (isDigit(n.trim()) ? n.trim() : null));
  // Two classes named the same digit cannot share it: only the first keeps it.
  const taken = new Set<string>();
  keys.forEach((k, i) => {
    if (k === null) return;
    if (taken.has(k)) keys[i] = null;
    else taken.add(k);
  });
  const free = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].filter((d) => !taken.has(d));
  names.forEach((n, i) => {
    if (keys[i] === null && !isDigit(n.trim()) && free.length) keys[i] = free.shift()!;
  });
  return keys;
}

/** Whether every class has a digit key (else the class finder, `/`, stays on screen). */
export function everyClassOnAKey(names: readonly string[]): boolean {
  return classKeys(names).every((k) => k !== null);
}

/** Class index for a digit key in `keys` (classKeys), or null when no class sits on it. */
export function classForKey(key: string, keys: readonly (string | null)[] = DEFAULT_KEYS): number | null {
  if (!isDigit(key)) return null;
  const i = keys.indexOf(key);
  return i < 0 ? null : i;
}
const DEFAULT_KEYS = Array.from({ length: 10 }, (_, i) => keyForClass(i));

/**
 * Map a key press to an action. `classes` is the project's class names (or, for the
 * number-row default, how many there are). A digit no class sits on is an error that says
 * so, rather than being silently ignored. `repeat` (the browser's auto-repeat of a held
 * key) never labels, skips or undoes: each of those needs its own press, so holding a key
 * cannot decide samples no one saw.
 */
export function keyToAction(key: string, classes: readonly string[] | number, modifiers = false, repeat = false): KeyAction {
  if (modifiers) return { kind: 'none' };
  const names = typeof classes === 'number' ? Array.from({ length: classes }, (_, i) => `class ${i + 1}`) : classes;
  const classCount = names.length;
  if (isDigit(key)) {
    if (repeat) return { kind: 'none' };
    if (classCount === 0) return { kind: 'error', message: 'This project has no classes yet: press n to add one.' };
    const keys = classKeys(names);
    const c = classForKey(key, keys);
    if (c === null) {
      const onDigits = keys.filter((k): k is string => k !== null);
      const standard = keys.every((k, i) => k === keyForClass(i));
      const wanted = key === '0' ? 10 : Number(key);
      return {
        kind: 'error',
        message: standard
          ? `Key ${key} is for class ${wanted}, but this project has ${classCount} classes (keys 1–${keyForClass(Math.min(classCount, 10) - 1)}). Press n to add a class.`
          : `No class is on key ${key}: this project's class keys are ${onDigits.join(', ')} (each shown on its button). Press n to add a class.`,
      };
    }
    return { kind: 'label', classIndex: c };
  }
  if (repeat && (key === ' ' || key === 'Backspace')) return { kind: 'none' };
  switch (key) {
    case ' ':
      return { kind: 'skip' };
    case 'Backspace':
      return { kind: 'undo' };
    case '?':
      return { kind: 'help' };
    case 'n':
      return { kind: 'newClass' };
    case '/':
      return { kind: 'filter' };
    case 'l':
      return { kind: 'view', view: 'label' };
    case 'b':
      return { kind: 'view', view: 'batch' };
    case 'd':
      return { kind: 'view', view: 'dashboard' };
    case 'p':
      return { kind: 'view', view: 'projects' };
    default:
      return { kind: 'none' };
  }
}

/** Classes whose name contains `text` (case-insensitive), in class order. */
export function filterClasses(names: string[], text: string): number[] {
  const t = text.trim().toLowerCase();
  return names.map((n, i) => [n, i] as const).filter(([n]) => n.toLowerCase().includes(t)).map(([, i]) => i);
}
