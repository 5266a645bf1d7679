// Tabs as the WAI-ARIA tabs pattern: one tab stop for the tab list, arrow keys (and
// Home/End) move between tabs and select them, each tab controls its panel.
export interface Tabs {
  select(id: string, focus?: boolean): void;
  selected(): string;
}

export function setUpTabs(list: HTMLElement, onSelect: (id: string) => void = () => {}): Tabs {
  const tabs = () => [...list.querySelectorAll<HTMLElement>('[role="tab"]')];
  let current = tabs().find((t) => t.getAttribute("aria-selected") === "true")?.id ?? tabs()[0]?.id ?? "";

  function select(id: string, focus = false): void {
    for (const tab of tabs()) {
      const on = tab.id === id;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute("aria-controls") ?? "");
      if (panel) panel.hidden = !on;
      if (on && focus) tab.focus();
    }
    if (current !== id) {
      current = id;
      onSelect(id);
    }
  }

  list.addEventListener("click", (event) => {
    const tab = (event.target as HTMLElement).closest<HTMLElement>('[role="tab"]');
    if (tab && list.contains(tab)) select(tab.id, true);
  });
  list.addEventListener("keydown", (event) => {
    const all = tabs();
    const at = all.findIndex((t) => t.id === current);
    const to =
      event.key === "ArrowRight"
        ? (at + 1) % all.length
        : event.key === "ArrowLeft"
          ? (at - 1 + all.length) % all.length
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? all.length - 1
              : -1;
    if (to < 0) return;
    event.preventDefault();
    const target = all[to];
    if (target) select(target.id, true);
  });
  select(current);
  return { select, selected: () => current };
}
