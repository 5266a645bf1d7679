// `mptcp-policy explain PATH`: the plan in words, rule by rule.
import { explainPolicy } from "../../compiler/explain.js";
import { requirePaths, type Command } from "./command.js";
import { loadModel } from "./compile-command.js";
import { writeOut } from "./output.js";

export const explainCommand: Command = {
  name: "explain",
  summary: "say in words what a policy will make the kernel do",
  usage: `Usage: mptcp-policy explain PATH

Checks one policy and explains, rule by rule, which path manager it uses and why,
the limits and endpoints it sets, and what each rule does when it fires.

Options:
  -h, --help   show this help`,
  options: { help: { type: "boolean", short: "h" } },
  run(_values, positionals) {
    const model = loadModel(requirePaths(positionals, "explain"));
    if (!model) return 1;
    writeOut(explainPolicy(model));
    return 0;
  },
};
