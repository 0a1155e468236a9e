// dcc.Upload draws a file input with no label of its own: name it after its upload's
// visible text (e.g. the Import button), so screen readers announce what it is for.
(() => {
  const label = () =>
    document.querySelectorAll("input[type=file]:not([aria-label])").forEach((input) => {
      const text = (input.parentElement && input.parentElement.textContent.trim()) || "";
      input.setAttribute("aria-label", text ? `${text}: choose a file` : "Choose a file");
    });
  new MutationObserver(label).observe(document, { subtree: true, childList: true });
  label();
})();
