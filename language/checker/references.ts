// Resolving interface names: every use goes through here, so "undeclared" and
// "unused" agree about what was referenced.
import { error } from "../diagnostics.js";
import { didYouMean, orElse } from "../suggest.js";
import type { Name } from "../syntax-tree.js";
import type { CheckContext } from "./context.js";

export function resolveInterface(context: CheckContext, name: Name): boolean {
  const { interfaces, usedInterfaces } = context.symbols;
  if (interfaces.has(name.text)) {
    usedInterfaces.add(name.text);
    return true;
  }
  context.report(
    error("E100", name.span, `interface '${name.text}' is not declared`, {
      hints: orElse(didYouMean(name.text, interfaces.keys()), `declare it: interface ${name.text} = "KERNEL_NAME"`),
    }),
  );
  return false;
}
