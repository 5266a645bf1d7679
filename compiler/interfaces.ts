// Which policy interfaces a kernel interface name belongs to: the declared names
// whose patterns (kernel names or globs such as "usb*") match it.
import picomatch from "picomatch/posix.js";
import type { PolicyModel } from "./model.js";

export type InterfaceMatcher = (ifname: string) => string[];

export function interfaceMatcher(model: PolicyModel): InterfaceMatcher {
  const tests = model.interfaces.map((i) => ({ name: i.name, test: picomatch(i.patterns as string[], { dot: true }) }));
  const cache = new Map<string, string[]>();
  return (ifname) => {
    let names = cache.get(ifname);
    if (!names) {
      names = tests.filter((t) => t.test(ifname)).map((t) => t.name);
      cache.set(ifname, names);
    }
    return names;
  };
}
