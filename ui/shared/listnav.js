// The row a list key moves focus to (arrows, page keys, Home, End), or null
// for any other key. Shared by the history window and the workbench's call log.
export function keyTarget(key, index, page, last) {
  switch (key) {
    case "ArrowDown":
      return index + 1;
    case "ArrowUp":
      return index - 1;
    case "PageDown":
      return index + page;
    case "PageUp":
      return index - page;
    case "Home":
      return 0;
    case "End":
      return last;
    default:
      return null;
  }
}
