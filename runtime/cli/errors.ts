// Errors the CLI turns into a one-line message and exit status 2 (usage, I/O).
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export class InputError extends Error {
  override readonly name = "InputError";
}
