// A form sent back with problems: bring the first one into view and put the cursor in its field, so that on a
// phone the message is not a screen or two below where the page opens.
document.addEventListener("DOMContentLoaded", () => {
  const problem = document.querySelector(".has-error, p.error[role='alert']");
  if (!problem) return;
  problem.scrollIntoView({ block: "center" });
  const box = problem.closest(".field, fieldset") || problem;
  const input = box.querySelector("input:not([type=hidden]), select, textarea");
  if (input) input.focus({ preventScroll: true });
});
