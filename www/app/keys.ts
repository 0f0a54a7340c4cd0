// Keyboard mapping for labelling, as pure functions so they can be unit-tested.

/** What a key press asks for. */
export type KeyAction =
  | { kind: 'label'; classIndex: number }
  | { kind: 'error'; message: string }
  | { kind: 'none' };

/**
 * Map a KeyboardEvent.key to an action. Digit keys 0-9 label with that class index.
 * A digit naming a class the project does not have is an error with a message that
 * says so, rather than being silently ignored.
 */
export function keyToAction(key: string, classCount: number, modifiers = false): KeyAction {
  if (modifiers) return { kind: 'none' };
  if (key.length === 1 && key >= '0' && key <= '9') {
    const classIndex = Number(key);
    if (classIndex >= classCount) {
      return {
        kind: 'error',
        message: `There is no class ${classIndex}: this project has ${classCount} classes (keys 0–${classCount - 1}).`,
      };
    }
    return { kind: 'label', classIndex };
  }
  return { kind: 'none' };
}
