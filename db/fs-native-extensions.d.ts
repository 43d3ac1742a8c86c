/** The part of `fs-native-extensions` (no types of its own) that the data directory lock uses. */
declare module 'fs-native-extensions' {
  /** Exclusive lock on the whole file; false when another open file description holds it. */
  export function tryLock(fd: number): boolean;
  export function unlock(fd: number): void;
}
