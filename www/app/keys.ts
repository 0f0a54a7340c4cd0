// Keyboard mapping for labelling, as pure functions so they can be unit-tested.
//
// Class keys follow the order of the keyboard's number row, as the issue asks: key 1 is
// the first class, …, key 9 the ninth, key 0 the tenth. Classes beyond the tenth have no
// digit: `/` opens the filterable class list (type part of a name, Enter labels).

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
  ['1 … 9, 0', 'label with class 1 … 9, 10 (the number shown on its button)'],
  ['/', 'find a class by name (for more than ten classes); Enter labels'],
  ['Space', 'skip this sample (it comes back later)'],
  ['Backspace', 'undo the last decision (the last 20 are listed and can be changed)'],
  ['n', 'add a new class'],
  ['l, b, d, p', 'views: label, batch, dashboard, projects (import, export, backup)'],
  ['?', 'show or hide these keys'],
  ['Tab, Enter', 'move between and press any button'],
];

/** The digit key for class `i` (0-based), or null when it has none. */
export function keyForClass(i: number): string | null {
  if (i < 0 || i > 9) return null;
  return i === 9 ? '0' : String(i + 1);
}

/** Class index for a digit key, or null when the key is not a digit. */
export function classForKey(key: string): number | null {
  if (key.length !== 1 || key < '0' || key > '9') return null;
  return key === '0' ? 9 : Number(key) - 1;
}

/**
 * Map a KeyboardEvent.key to an action. A digit naming a class the project does not have
 * is an error with a message that says so, rather than being silently ignored.
 */
export function keyToAction(key: string, classCount: number, modifiers = false): KeyAction {
  if (modifiers) return { kind: 'none' };
  const c = classForKey(key);
  if (c !== null) {
    if (classCount === 0) return { kind: 'error', message: 'This project has no classes yet: press n to add one.' };
    if (c >= classCount) {
      const last = keyForClass(Math.min(classCount, 10) - 1);
      return {
        kind: 'error',
        message: `Key ${key} is for class ${c + 1}, but this project has ${classCount} classes (keys 1–${last}). Press n to add a class.`,
      };
    }
    return { kind: 'label', classIndex: c };
  }
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
