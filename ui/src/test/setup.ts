// jsdom lacks a few browser APIs the UI touches.
if (!Element.prototype.scrollIntoView) {
  Element.prototype.scrollIntoView = function scrollIntoView() {};
}
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = function scrollTo() {};
}
if (typeof globalThis.ResizeObserver === "undefined") {
  // `bind:clientHeight` observes sizes; jsdom lays nothing out, so there is nothing to report.
  globalThis.ResizeObserver = class ResizeObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
